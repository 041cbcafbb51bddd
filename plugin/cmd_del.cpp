// DEL: best effort. Every step runs; failures are collected and reported once at the end. Nothing
// being there (empty CNI_NETNS, a deleted netns, a missing interface, no lease, no rules) is success.
#include "lib/log/log.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/nat_plan.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {
namespace {

// Deleting the container end removes the host end with it (one ~16 ms synchronize_net).
void delete_container_link(const cni::Request& req) {
  std::optional<netns::Netns> ns;
  try {
    ns = netns::Netns::open_if_exists(req.env.netns, "CNI_NETNS");
  } catch (const Error& e) {
    // A path that is no longer a netns (unmounted bind mount) means the namespace is gone.
    log::info(std::string("DEL: ") + e.what() + ": nothing to delete there");
    return;
  }
  if (!ns) return;
  auto sk = netlink::RtnlSocket::open_in(*ns);
  netlink::delete_link(sk, req.env.ifname);
}

}  // namespace

void cmd_del(const cni::Request& req, const Deps& deps) {
  const BridgePlan plan = build_bridge_plan(req);
  util::ErrorList errors;
  if (!req.env.netns.empty()) errors.run("delete container interface", [&] { delete_container_link(req); });
  errors.run("IPAM DEL", [&] { ipam_del(plan, req); });
  // Always: rules are keyed by the attachment, so this needs neither the netns nor prevResult.
  errors.run("remove NAT rules", [&] { deps.firewall->del(attachment_key(req)); });
  errors.throw_if_any();
}

}  // namespace tether::plugin
