#pragma once
// A routed network's forwarding on hosts that would drop it: FORWARD accepts in each backend's
// tables (firewall::ForwardPlan) and, where firewalld runs, its subnets in the trusted zone.
// Per network, not per container: set up with its attachments, removed with its last one. The
// state directory is the registry of attachments; callers hold its per-network lock around "is
// this the first/last attachment" and the change that follows.
#include <optional>
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "plugin/firewall_state.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {

// The plan for a network on `bridge` whose containers have `ips` (subnets: their networks).
firewall::ForwardPlan forward_plan(const std::string& network, const std::string& bridge,
                                   const std::vector<net::IpPrefix>& ips);

// Idempotent: every ADD calls it, so rules a firewall reload wiped come back with the next
// container. firewalld is asked only when `first` (the network's first attachment, or a reload):
// a D-Bus round trip costs about as much as the rest of an ADD. `written`: the backend whose
// accepts the caller wrote already (Firewall::add_with_forward), skipped here.
void ensure_network_forward(const Deps& deps, const firewall::ForwardPlan& plan, bool first,
                            std::optional<firewall::Backend> written = std::nullopt);
// The network lost its last attachment. Every backend is asked (errors collected, all tried).
void remove_network_forward(const Deps& deps, const firewall::ForwardPlan& plan);
// Throws (code 999) naming what is missing.
void check_network_forward(const Deps& deps, const firewall::ForwardPlan& plan);

// Under the network's lock, before `key`'s rules go: the network's forwarding when `key` is its
// last attachment with forwarding (it goes with it), else nullopt.
std::optional<firewall::ForwardPlan> forward_leaving_with(const StateDir& state, const firewall::AttachmentKey& key);
// firewalld's trust of the plan's subnets (the network's last attachment is gone).
void untrust_network(const Deps& deps, const firewall::ForwardPlan& plan);

// GC, once the attachment's rules are gone: removes its state and, when it was its network's last
// attachment with forwarding, the network's forwarding (under the network's lock).
void forget_attachment(const Deps& deps, StateDir& state, const firewall::AttachmentKey& key);

}  // namespace tether::plugin
