#include "lib/firewall/route_localnet.hpp"

#include "lib/sys/sysctl.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {

void enable_route_localnet(const std::string& ifname) {
  if (ifname.empty() || ifname.size() > 15 || ifname.find('/') != std::string::npos || ifname == "." || ifname == "..")
    throw Error("route_localnet: bad interface name '" + ifname + "'", 7);
  sys::ensure_sysctl("net/ipv4/conf/" + ifname + "/route_localnet", "1");  // a read when already set
}

}  // namespace tether::firewall
