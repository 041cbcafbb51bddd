#pragma once
#include <string>

namespace tether::firewall {

// Sets net.ipv4.conf.<ifname>.route_localnet=1 in the netns current at the call (plain file I/O on
// /proc/sys, which resolves against the caller's netns). Needed so DNAT'ed 127.0.0.1 traffic may
// leave through `ifname` toward the container. Idempotent; throws SysError naming the path.
void enable_route_localnet(const std::string& ifname);

}  // namespace tether::firewall
