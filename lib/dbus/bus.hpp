#pragma once
// Bus: one client connection to a D-Bus message bus (sd-bus underneath, loaded on first use:
// lazy_sdbus.cpp). Blocking calls with a per-connection timeout, and signal subscriptions read
// one at a time. Not thread-safe: one Bus per thread.
//
// No D-Bus service is ever started on our behalf: every call carries NO_AUTO_START, so asking
// about a service that is not running is answered at once by the bus instead of activating it.
#include <chrono>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "lib/dbus/message.hpp"
#include "lib/util/error.hpp"

struct sd_bus;

namespace tether::dbus {

// A method call that failed: the peer's error reply, or a local failure (timeout, disconnect).
// name() is the D-Bus error name ("org.freedesktop.DBus.Error.NameHasNoOwner"); callers branch on
// it. what(): "D-Bus call <label> to <destination>: <name>: <message>".
class CallError : public Error {
 public:
  CallError(const std::string& call, std::string name, std::string message)
      : Error("D-Bus call " + call + ": " + name + ": " + message),
        name_(std::move(name)),
        message_(std::move(message)) {}
  const std::string& name() const noexcept { return name_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string name_;
  std::string message_;
};

// The connection is closed (the bus daemon went away or hung up on us).
class Disconnected : public Error {
 public:
  using Error::Error;
};

struct Destination {
  std::string service;  // bus name, e.g. "org.fedoraproject.FirewallD1"
  std::string path;     // object path
  std::string interface;
};

class Bus {
 public:
  // Connects to `address` (D-Bus address syntax). nullopt when nothing is there to answer: every
  // entry is a unix socket path that does not exist (decided by stat, before libsystemd is even
  // loaded), or the socket refuses the connection (nobody listening). Nothing here waits for a
  // timeout. Any other failure throws. `call_timeout` bounds each call, Hello included.
  static std::optional<Bus> connect(const std::string& address, std::chrono::milliseconds call_timeout);
  // The system bus: system_bus_address() (honours DBUS_SYSTEM_BUS_ADDRESS).
  static std::optional<Bus> connect_system(std::chrono::milliseconds call_timeout);

  Bus(Bus&&) noexcept;
  Bus& operator=(Bus&&) noexcept;
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;
  ~Bus();

  const std::string& address() const noexcept { return address_; }

  // A method call to build with Message::append, then send with call().
  Message new_call(const Destination& to, const char* member);
  // Sends `m` and waits for its reply. Throws CallError on an error reply or a local failure.
  Message call(Message& m);
  // The common case: a call whose arguments are all strings.
  Message call(const Destination& to, const char* member, std::initializer_list<std::string_view> string_args);

  // org.freedesktop.DBus.NameHasOwner / GetNameOwner (nullopt: nobody owns it).
  bool name_has_owner(const std::string& name);
  std::optional<std::string> name_owner(const std::string& name);

  // Installs a match rule (D-Bus match-rule syntax) on the bus and here, for the life of the
  // connection; the signals it matches queue up for next_signal(). Blocks until the bus confirms,
  // so a signal sent after this returns is never missed.
  void subscribe(const std::string& match_rule);
  // The next subscribed signal, waiting up to `timeout` for one (nullopt: none came). Throws
  // Disconnected when the connection is closed.
  std::optional<Message> next_signal(std::chrono::milliseconds timeout);

 private:
  struct Signals;  // the subscribed signals received but not yet read (bus.cpp)
  Bus(sd_bus* bus, std::string address);
  // The destructor closes bus_ before signals_ goes: no callback can then reach the queue
  // (queued messages hold the closed connection's last references).
  std::unique_ptr<Signals> signals_;
  sd_bus* bus_ = nullptr;
  std::string address_;
};

}  // namespace tether::dbus
