#include "lib/dbus/bus.hpp"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <utility>

#include "lib/dbus/address.hpp"

namespace tether::dbus {
namespace {

constexpr const char* kDBusService = "org.freedesktop.DBus";
const Destination kDriver{kDBusService, "/org/freedesktop/DBus", kDBusService};

// Frees an sd_bus_error on every path out of a call.
struct ScopedError {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  ~ScopedError() { sd_bus_error_free(&e); }
};

std::uint64_t to_usec(std::chrono::milliseconds d) {
  return d.count() <= 0 ? 1 : static_cast<std::uint64_t>(d.count()) * 1000;
}

bool is_disconnect(int rc) {
  return rc == -ECONNRESET || rc == -ENOTCONN || rc == -EPIPE || rc == -ECONNABORTED || rc == -ESHUTDOWN;
}

}  // namespace

struct Bus::Signals {
  std::deque<sd_bus_message*> queue;  // one reference each
  ~Signals() {
    for (auto* m : queue) sd_bus_message_unref(m);
  }
};

namespace {

// sd-bus calls this for each signal a subscription matches; C code is on the stack, so nothing
// may throw through it. The message is only queued: next_signal() reads it.
int on_signal(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
  auto* queue = static_cast<std::deque<sd_bus_message*>*>(userdata);
  try {
    queue->push_back(m);
  } catch (...) {
    return -ENOMEM;
  }
  sd_bus_message_ref(m);
  return 0;
}

}  // namespace

Bus::Bus(sd_bus* bus, std::string address)
    : signals_(std::make_unique<Signals>()), bus_(bus), address_(std::move(address)) {}

Bus::Bus(Bus&& o) noexcept
    : signals_(std::move(o.signals_)), bus_(std::exchange(o.bus_, nullptr)), address_(std::move(o.address_)) {}

Bus& Bus::operator=(Bus&& o) noexcept {
  if (this != &o) {
    if (bus_ != nullptr) sd_bus_close_unref(bus_);
    bus_ = std::exchange(o.bus_, nullptr);
    signals_ = std::move(o.signals_);
    address_ = std::move(o.address_);
  }
  return *this;
}

Bus::~Bus() {
  // Not sd_bus_flush_close_unref: flushing waits without a bound for a peer that stopped reading,
  // and every message we send is a call whose reply we already waited for.
  if (bus_ != nullptr) sd_bus_close_unref(bus_);
}

std::optional<Bus> Bus::connect(const std::string& address, std::chrono::milliseconds call_timeout) {
  if (!may_be_listening(address)) return std::nullopt;
  sd_bus* raw = nullptr;
  if (const int rc = sd_bus_new(&raw); rc < 0) throw Error("D-Bus: sd_bus_new: " + std::string(std::strerror(-rc)));
  Bus bus(raw, address);
  auto check = [&](int rc, const char* op) {
    if (rc < 0) throw Error("D-Bus: " + std::string(op) + " for '" + address + "': " + std::strerror(-rc));
  };
  check(sd_bus_set_address(raw, address.c_str()), "sd_bus_set_address");
  check(sd_bus_set_bus_client(raw, 1), "sd_bus_set_bus_client");  // a message bus: send Hello
  check(sd_bus_set_method_call_timeout(raw, to_usec(call_timeout)), "sd_bus_set_method_call_timeout");
  // Connects the socket (non-blocking: a unix socket is accepted or refused at once) and queues
  // the authentication and Hello, which complete within the first call.
  const int rc = sd_bus_start(raw);
  if (rc == -ENOENT || rc == -ECONNREFUSED) return std::nullopt;  // vanished since the stat, or stale
  check(rc, "connect (sd_bus_start)");
  return bus;
}

std::optional<Bus> Bus::connect_system(std::chrono::milliseconds call_timeout) {
  return connect(system_bus_address(), call_timeout);
}

Message Bus::new_call(const Destination& to, const char* member) {
  sd_bus_message* raw = nullptr;
  const std::string name = to.interface + "." + member;
  const int rc = sd_bus_message_new_method_call(bus_, &raw, to.service.c_str(), to.path.c_str(), to.interface.c_str(),
                                                member);
  if (rc < 0) throw Error("D-Bus: create call " + name + " to " + to.service + ": " + std::strerror(-rc));
  Message m(raw, name);
  if (const int r = sd_bus_message_set_auto_start(raw, 0); r < 0) m.fail("clear auto-start on", r);
  m.destination_ = to.service;
  return m;
}

Message Bus::call(Message& m) {
  ScopedError err;
  sd_bus_message* reply = nullptr;
  const int rc = sd_bus_call(bus_, m.get(), 0 /* the connection's call timeout */, &err.e, &reply);
  const std::string what = m.label() + " to " + m.destination_;
  if (rc < 0) {
    // A peer's error reply sets the error; a local failure (timeout, disconnect) only the errno.
    const std::string name = err.e.name != nullptr ? err.e.name : "errno " + std::to_string(-rc);
    const std::string text = err.e.message != nullptr ? err.e.message : std::strerror(-rc);
    throw CallError(what, name, text);
  }
  return Message(reply, m.name_, m.args(), " reply");
}

Message Bus::call(const Destination& to, const char* member, std::initializer_list<std::string_view> string_args) {
  Message m = new_call(to, member);
  for (auto a : string_args) m.append(a);
  return call(m);
}

bool Bus::name_has_owner(const std::string& name) { return call(kDriver, "NameHasOwner", {name}).read_bool(); }

std::optional<std::string> Bus::name_owner(const std::string& name) {
  try {
    return call(kDriver, "GetNameOwner", {name}).read_string();
  } catch (const CallError& e) {
    if (e.name() == "org.freedesktop.DBus.Error.NameHasNoOwner") return std::nullopt;
    throw;
  }
}

void Bus::subscribe(const std::string& match_rule) {
  // A floating slot (no slot pointer): the match lives as long as the connection, which frees it.
  const int rc = sd_bus_add_match(bus_, nullptr, match_rule.c_str(), on_signal, &signals_->queue);
  if (rc < 0) {
    if (is_disconnect(rc)) throw Disconnected("D-Bus: subscribe to " + match_rule + ": connection closed");
    throw Error("D-Bus: subscribe to " + match_rule + ": " + std::strerror(-rc));
  }
}

std::optional<Message> Bus::next_signal(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (!signals_->queue.empty()) {
      sd_bus_message* raw = signals_->queue.front();
      signals_->queue.pop_front();
      Message m(raw, "", "", "");
      m.name_ = m.interface() + "." + m.member();
      m.suffix_ = " signal from " + m.sender();
      return m;
    }
    int rc = sd_bus_process(bus_, nullptr);  // > 0: it did something; call again before waiting
    if (rc > 0) continue;
    if (rc == 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                              std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      rc = sd_bus_wait(bus_, to_usec(left));
      if (rc >= 0 || rc == -EINTR) continue;
    }
    if (is_disconnect(rc) || sd_bus_is_open(bus_) <= 0)
      throw Disconnected("D-Bus: connection to " + address_ + " closed: " + std::strerror(-rc));
    throw Error("D-Bus: wait for signals on " + address_ + ": " + std::strerror(-rc));
  }
}

}  // namespace tether::dbus
