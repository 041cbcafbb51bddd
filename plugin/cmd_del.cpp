// DEL: firewall rules first, then the links, then the address, as libcni's chained DEL (portmap
// before bridge and IPAM) and netavark do: the address is released last, so no new container can
// be handed it while published ports still DNAT to it. Every step runs; failures are collected and
// reported once at the end, except that a failed rule removal keeps the lease (the DEL fails, the
// runtime retries). Nothing being there (empty CNI_NETNS, a deleted netns, a missing interface, no
// lease, no rules) is success.
#include "lib/log/log.hpp"
#include "lib/net/mac.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/firewall_state.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/network_forward.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {
namespace {

// Deleting the container end removes the host end with it (one ~16 ms synchronize_net).
// Returns false when the netns is gone or not a netns any more (nothing could be reached there).
bool delete_container_link(const cni::Request& req) {
  std::optional<netns::Netns> ns;
  try {
    ns = netns::Netns::open_if_exists(req.env.netns, "CNI_NETNS");
  } catch (const Error& e) {
    // A path that is no longer a netns (unmounted bind mount) means the namespace is gone.
    log::info(std::string("DEL: ") + e.what() + ": nothing to delete there");
    return false;
  }
  if (!ns) return false;
  auto sk = netlink::RtnlSocket::open_in(*ns);
  netlink::delete_link(sk, req.env.ifname);
  return true;
}

// Without a usable netns the container end cannot be reached, but a still-living netns (cnitool gc,
// a runtime that forgot the path) keeps the pair alive. prevResult names our host end: delete it
// from the host side, but only if it is still a veth port of our bridge, so a name reused by
// someone else since is never touched.
void delete_host_veth_from_prev_result(const cni::Request& req, const BridgePlan& plan) {
  if (!req.conf.prev_result) return;
  auto sk = netlink::RtnlSocket::open();
  const auto bridge = netlink::find_link(sk, plan.bridge);
  if (!bridge) return;
  for (const auto& itf : req.conf.prev_result->interfaces) {
    if (!itf.sandbox.empty() || itf.name.empty() || itf.name == plan.bridge) continue;
    const auto link = netlink::find_link(sk, itf.name);
    if (!link || link->kind != "veth" || link->master != bridge->index) continue;
    if (!itf.mac.empty() && !net::same_mac(itf.mac, link->mac)) continue;
    netlink::delete_link(sk, link->index);
  }
}

}  // namespace

void cmd_del(const cni::Request& req, const Deps& deps) {
  const BridgePlan plan = build_bridge_plan(req, PlanUse::Teardown);
  util::ErrorList errors;
  // Always, in every backend: rules are keyed by the attachment, so this needs neither the netns
  // nor prevResult, and finds rules made under another config or backend choice. The state goes
  // only with its rules (a reload must be able to re-create whatever may still exist).
  const auto key = attachment_key(req);
  StateDir state(plan.state_dir);
  std::vector<std::unique_ptr<firewall::Firewall>> firewalls;  // closed at the end (firewall_plan.hpp)
  {
    const auto lock = state.lock_if_exists(sys::LockMode::kShared);
    // The network's last attachment takes the network's forwarding with it, decided under the
    // network's lock and removed in the same transaction as its rules (nftables: one batch).
    std::optional<sys::FileLock> network;
    std::optional<firewall::ForwardPlan> leaving;
    if (lock) {
      network = state.network_lock(key.network);
      leaving = forward_leaving_with(state, key);
    }
    firewalls = for_each_backend(deps, "remove firewall rules", errors, [&](firewall::Firewall& fw) {
      if (leaving)
        fw.del_with_forward(key);
      else
        fw.del(key);
    });
    if (errors.empty() && lock)
      errors.run("remove firewall state", [&] {
        state.remove(key);
        if (leaving) untrust_network(deps, *leaving);
      });
  }
  const bool rules_gone = errors.empty();
  bool container_link_deleted = false;
  if (!req.env.netns.empty())
    errors.run("delete container interface", [&] { container_link_deleted = delete_container_link(req); });
  if (!container_link_deleted) errors.run("delete host veth", [&] { delete_host_veth_from_prev_result(req, plan); });
  if (rules_gone)
    errors.run("IPAM DEL", [&] { ipam_del(plan, req); });
  else
    errors.add("IPAM DEL: the address stays leased until its NAT rules are removed (DEL again)");
  errors.throw_if_any();
}

}  // namespace tether::plugin
