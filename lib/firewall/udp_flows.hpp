#pragma once
// Shared by the backends: after a UDP port mapping appears or goes, conntrack entries for its host
// port keep steering datagrams the old way (UDP flows never end on their own). Deleting them
// makes the next datagram meet the new rules.
#include <cstdint>
#include <vector>

#include "lib/net/ip.hpp"

namespace tether::firewall {

// Best effort, in the netns current at the call: a failure is logged, never thrown (stale
// entries only delay the new mapping until they time out).
void forget_udp_flows(net::Family family, const std::vector<std::uint16_t>& host_ports) noexcept;

}  // namespace tether::firewall
