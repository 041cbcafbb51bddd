#include "plugin/network_forward.hpp"

#include <algorithm>

#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "plugin/firewall_plan.hpp"

namespace tether::plugin {

firewall::ForwardPlan forward_plan(const std::string& network, const std::string& bridge,
                                   const std::vector<net::IpPrefix>& ips) {
  firewall::ForwardPlan plan{network, bridge, {}};
  for (const auto& ip : ips)
    if (std::find(plan.subnets.begin(), plan.subnets.end(), ip.network()) == plan.subnets.end())
      plan.subnets.push_back(ip.network());
  return plan;
}

void ensure_network_forward(const Deps& deps, const firewall::ForwardPlan& plan, bool first,
                            std::optional<firewall::Backend> written) {
  for (auto backend : {firewall::Backend::Iptables, firewall::Backend::Nftables})
    if (backend != written)
      if (auto fw = deps.make_firewall(backend)) fw->ensure_forward(plan);
  if (!first || !deps.trusted_zone) return;
  if (auto zone = deps.trusted_zone())
    for (const auto& s : plan.subnets) zone->trust(s.to_string());
}

void untrust_network(const Deps& deps, const firewall::ForwardPlan& plan) {
  if (!deps.trusted_zone) return;
  if (auto zone = deps.trusted_zone())
    for (const auto& s : plan.subnets) zone->untrust(s.to_string());
}

void remove_network_forward(const Deps& deps, const firewall::ForwardPlan& plan) {
  util::ErrorList errors;
  for_each_backend(deps, "remove forward rules", errors,
                   [&](firewall::Firewall& fw) { fw.remove_forward(plan.network); });
  errors.run("firewalld", [&] { untrust_network(deps, plan); });
  errors.throw_if_any();
}

void check_network_forward(const Deps& deps, const firewall::ForwardPlan& plan) {
  for (auto backend : {firewall::Backend::Iptables, firewall::Backend::Nftables})
    if (auto fw = deps.make_firewall(backend)) fw->check_forward(plan);
  if (!deps.trusted_zone) return;
  if (auto zone = deps.trusted_zone())
    for (const auto& s : plan.subnets)
      if (!zone->trusted(s.to_string()))
        throw Error("firewalld: subnet " + s.to_string() + " of network '" + plan.network +
                        "' is not in the trusted zone",
                    kInternal);
}

std::optional<firewall::ForwardPlan> forward_leaving_with(const StateDir& state, const firewall::AttachmentKey& key) {
  const auto prior = state.load(key);
  if (!prior || !prior->forward || state.network_has_attachments(key.network, &key)) return std::nullopt;
  return forward_plan(key.network, prior->bridge, prior->nat.container_ips);
}

void forget_attachment(const Deps& deps, StateDir& state, const firewall::AttachmentKey& key) {
  const sys::FileLock network = state.network_lock(key.network);
  const auto leaving = forward_leaving_with(state, key);
  state.remove(key);
  if (leaving) remove_network_forward(deps, *leaving);
}

}  // namespace tether::plugin
