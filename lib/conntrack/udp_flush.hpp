#pragma once
// After a UDP port mapping appears or disappears, existing conntrack entries for that host port
// keep steering packets the old way (UDP "connections" never end on their own). Deleting them
// makes the next packet hit the nat table again.
#include <cstdint>
#include <vector>

#include "lib/net/ip.hpp"

namespace tether::conntrack {

// Deletes every conntrack entry of `family` whose original direction is UDP to one of `ports`,
// in the netns current at the call. Returns how many were deleted. Throws tether::Error if
// ctnetlink cannot be opened or dumped; an entry that vanished meanwhile is not an error.
std::size_t delete_udp_conntrack(net::Family family, const std::vector<std::uint16_t>& ports);

}  // namespace tether::conntrack
