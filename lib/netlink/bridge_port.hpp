#pragma once
// Bridge-port settings on a link that is already a port (EOPNOTSUPP otherwise), in the socket's netns.
#include <vector>

#include "lib/netlink/socket.hpp"

namespace tether::netlink {

// Hairpin mode (reflect frames back out of the port they came in on), via libnl's AF_BRIDGE change.
void set_port_hairpin(RtnlSocket& sk, int port_index, bool on);
// Port isolation (isolated ports talk only to non-isolated ones). libnl 3.7 has no setter:
// hand-built RTM_SETLINK{AF_BRIDGE} with IFLA_PROTINFO{IFLA_BRPORT_ISOLATED}.
void set_port_isolated(RtnlSocket& sk, int port_index, bool on);

struct VlanRange {
  int min = 0, max = 0;  // inclusive; min == max for one id
};
struct PortVlans {
  int pvid = 0;                   // access VLAN (pvid + untagged); 0 = none
  std::vector<VlanRange> trunk;   // tagged members
  bool preserve_default = false;  // keep VLAN 1 that the kernel puts on every new port
};
// CNI's order: unless preserve_default, remove VLAN 1; add pvid as pvid+untagged; add trunk ids
// tagged; with trunk ids but no pvid, add native VLAN 1 as pvid+untagged. Hand-built IFLA_AF_SPEC
// requests (no setter in 3.7). Needs vlan_filtering-capable kernel: EOPNOTSUPP → error saying so.
void set_port_vlans(RtnlSocket& sk, int port_index, const PortVlans& vlans);

}  // namespace tether::netlink
