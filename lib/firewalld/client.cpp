#include "lib/firewalld/client.hpp"

#include "lib/firewalld/api.hpp"
#include "lib/util/error.hpp"

namespace tether::firewalld {
namespace {

const dbus::Destination kZone{kService, kPath, kZoneInterface};

// firewalld's error code of a failed call ("" for any other error, e.g. a timeout).
std::string code_of(const dbus::CallError& e) { return e.name() == kErrorName ? error_code(e.message()) : ""; }

// firewalld's Reloaded. The rule names no sender: watch_reloads checks it against the current
// owner of firewalld's name, which it tracks anyway, so another client's Reloaded is ignored.
const std::string kReloadedRule = std::string("type='signal',interface='") + kInterface + "',member='Reloaded',path='" +
                                  kPath + "'";
// firewalld appearing, disappearing or being replaced: the bus driver's NameOwnerChanged(name, old, new).
const std::string kOwnerRule = std::string(
                                   "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
                                   "member='NameOwnerChanged',path='/org/freedesktop/DBus',arg0='") +
                               kService + "'";

}  // namespace

std::optional<Client> Client::connect_if_running(std::chrono::milliseconds call_timeout) {
  auto bus = dbus::Bus::connect_system(call_timeout);
  if (!bus || !bus->name_has_owner(kService)) return std::nullopt;
  return Client(std::move(*bus));
}

std::string Client::zone_of_source(const std::string& cidr) {
  return bus_.call(kZone, "getZoneOfSource", {canonical_source(cidr)}).read_string();
}

bool Client::is_trusted(const std::string& cidr) {
  return bus_.call(kZone, "querySource", {kTrustedZone, canonical_source(cidr)}).read_bool();
}

void Client::trust_source(const std::string& cidr) {
  const std::string source = canonical_source(cidr);
  auto refuse = [&](const std::string& zone) {
    return Error("firewalld: cannot trust source " + source + ": it is bound to zone '" + zone +
                 "' (tether does not move a binding it did not make)");
  };
  // Asked first, instead of reading addSource's refusal: firewalld logs every refused call as a
  // warning or error in its log, and an ADD on an already trusted subnet is the common case.
  const std::string zone = bus_.call(kZone, "getZoneOfSource", {source}).read_string();
  if (zone == kTrustedZone) return;
  if (!zone.empty()) throw refuse(zone);
  try {
    bus_.call(kZone, "addSource", {kTrustedZone, source});
  } catch (const dbus::CallError& e) {
    // Someone bound it between the two calls (another tether on the same subnet, an admin).
    const std::string code = code_of(e);
    if (code == "ZONE_ALREADY_SET") return;  // to trusted
    if (code == "ZONE_CONFLICT") {
      const std::string now = bus_.call(kZone, "getZoneOfSource", {source}).read_string();
      if (now == kTrustedZone) return;
      throw refuse(now);
    }
    throw;
  }
}

void Client::untrust_source(const std::string& cidr) {
  const std::string source = canonical_source(cidr);
  if (bus_.call(kZone, "getZoneOfSource", {source}).read_string() != kTrustedZone) return;
  try {
    bus_.call(kZone, "removeSource", {kTrustedZone, source});
  } catch (const dbus::CallError& e) {
    // Unbound (UNKNOWN_SOURCE) or rebound elsewhere (ZONE_CONFLICT) between the two calls.
    const std::string code = code_of(e);
    if (code == "UNKNOWN_SOURCE" || code == "ZONE_CONFLICT") return;
    throw;
  }
}

WatchEnd Client::watch_reloads(const std::function<void()>& on_reload, const std::function<bool()>& stop) {
  try {
    if (!subscribed_) {
      bus_.subscribe(kReloadedRule);
      bus_.subscribe(kOwnerRule);
      subscribed_ = true;
    }
    // Read after subscribing: a change in between arrives as NameOwnerChanged.
    std::string owner = bus_.name_owner(kService).value_or("");
    while (!stop()) {
      auto signal = bus_.next_signal(kStopPollInterval);
      if (!signal) continue;
      if (signal->is_signal("org.freedesktop.DBus", "NameOwnerChanged")) {
        const std::string name = signal->read_string();
        signal->read_string();  // the old owner
        const std::string new_owner = signal->read_string();
        if (name != kService) continue;
        owner = new_owner;
        if (!owner.empty()) on_reload();  // started (or restarted) with an empty runtime config
      } else if (signal->is_signal(kInterface, "Reloaded")) {
        if (!owner.empty() && signal->sender() == owner) on_reload();
      }
    }
    return WatchEnd::kStopped;
  } catch (const dbus::Disconnected&) {
    return WatchEnd::kBusGone;
  }
}

}  // namespace tether::firewalld
