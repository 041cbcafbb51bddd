#pragma once
// The host side of ADD: the gateway address on the bridge, forwarding, accept_ra, and the checks the
// rollback needs (is anyone else still using this bridge?). Runs in the host netns.
#include <vector>

#include "lib/cni/types.hpp"
#include "lib/netlink/link.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {

// Puts each IP's gateway (with the container subnet's prefix) on the bridge, as CNI's ensureAddr:
// identical address → nothing; a different IPv4 address, or an overlapping IPv6 one → error unless
// forceAddress (then it is replaced). EEXIST from a concurrent ADD is tolerated.
// Returns the addresses this call added (for the undo).
std::vector<net::IpPrefix> ensure_gateway_addresses(netlink::RtnlSocket& host, const netlink::LinkInfo& bridge,
                                                    const cni::Result& res, const BridgePlan& plan);
// ip_forward / ipv6 all.forwarding = 1 for the families present (written only when different).
void enable_forwarding(netlink::RtnlSocket& host, const cni::Result& res);
// net/ipv6/conf/<ifname>/accept_ra = 0 (skipped when IPv6 is off). For the bridge we create: its
// routes are ours, not a router's.
void disable_accept_ra(const std::string& ifname);
// True if any link other than `except_index` has `bridge_index` as master.
bool bridge_has_ports(netlink::RtnlSocket& host, int bridge_index, int except_index = 0);

}  // namespace tether::plugin
