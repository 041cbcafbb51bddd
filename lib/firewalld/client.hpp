#pragma once
// A firewalld client over the system bus. On hosts running firewalld (Fedora, RHEL), forwarded
// traffic from a source firewalld does not trust is rejected; like netavark, tether puts each
// network's subnet into the "trusted" zone, runtime configuration only, removes it with the
// network, and puts it back after every firewalld reload (a reload drops runtime sources).
//
// Sources are subnets in CIDR notation ("10.88.0.0/24", "fd00:88::/64"), handed to firewalld in
// one canonical spelling (api.hpp: canonical_source).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "lib/dbus/bus.hpp"

namespace tether::firewalld {

enum class WatchEnd {
  kStopped,  // `stop` returned true
  kBusGone,  // the system bus closed the connection (the caller decides: retry, exit)
};

class Client {
 public:
  // Each call waits at most this long for firewalld (which serves one request at a time).
  static constexpr std::chrono::milliseconds kDefaultCallTimeout{10000};

  // A client when firewalld owns its bus name. nullopt, without error and without waiting, when
  // there is no system bus (no socket: decided by a stat, libsystemd is not even loaded; or the
  // socket refuses connections) or firewalld is not running (NameHasOwner; never activated).
  // Throws tether::Error when the bus is there but misbehaves.
  static std::optional<Client> connect_if_running(std::chrono::milliseconds call_timeout = kDefaultCallTimeout);

  // Binds `cidr` to the trusted zone (runtime). Already trusted: no-op. Bound to another zone:
  // tether::Error naming that zone (we never move a binding someone else made).
  void trust_source(const std::string& cidr);
  // Unbinds `cidr` from the trusted zone. Not bound there (not bound at all, or bound to another
  // zone, which is not ours to undo): no-op.
  void untrust_source(const std::string& cidr);
  bool is_trusted(const std::string& cidr);
  // The zone `cidr` is bound to, "" when none.
  std::string zone_of_source(const std::string& cidr);

  // Blocks, calling on_reload() after each Reloaded signal from firewalld and each time firewalld
  // (re)appears on the bus (a restarted firewalld has lost its runtime configuration too); not
  // when it goes away. `stop` is first called once the subscriptions are in place (anything
  // after that is seen), then at least every kStopPollInterval. Returns why it ended;
  // on_reload's exceptions propagate. on_reload may use this client. For `tether
  // firewall-reload --watch`.
  static constexpr std::chrono::milliseconds kStopPollInterval{100};
  WatchEnd watch_reloads(const std::function<void()>& on_reload, const std::function<bool()>& stop);

 private:
  explicit Client(dbus::Bus bus) : bus_(std::move(bus)) {}
  dbus::Bus bus_;
  bool subscribed_ = false;
};

}  // namespace tether::firewalld
