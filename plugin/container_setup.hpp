#pragma once
// The container side of ADD: sysctls (inside a short NetnsGuard), addresses, link up, routes
// (all through the container's netlink socket, from the host thread).
#include "lib/cni/types.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netns/netns.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {

// `res` already holds the gateways and any default routes to install. Undo is the veth deletion.
void configure_container(const netns::Netns& ns, netlink::RtnlSocket& ctr, const netlink::LinkInfo& link,
                         const cni::Result& res, const BridgePlan& plan);

// Fills missing gateways (first host of the subnet, as CNI's calcGateways) when isGateway, and
// appends a default route per family via its gateway when isDefaultGateway and IPAM gave none.
void complete_gateways(cni::Result& res, const BridgePlan& plan);

}  // namespace tether::plugin
