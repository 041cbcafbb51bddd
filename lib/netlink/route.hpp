#pragma once
// Routes through an RtnlSocket (in the socket's netns). Protocol is RTPROT_BOOT, as CNI's
// vishvananda/netlink writes it, so `ip route` output matches the reference plugin.
#include <optional>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/netlink/socket.hpp"

namespace tether::netlink {

struct RouteSpec {
  net::IpPrefix dst;  // 0.0.0.0/0 or ::/0 for default
  std::optional<net::IpAddress> gw;
  int oif = 0;
  std::optional<int> mtu, advmss, priority, table, scope;
};

// An identical route → EEXIST → NlError naming the route (unless tolerate_exists: returns false).
// One to the same destination through another interface or gateway is added beside it.
bool add_route(RtnlSocket& sk, const RouteSpec& r, bool tolerate_exists = false);
// Missing → false.
bool delete_route(RtnlSocket& sk, const RouteSpec& r);

struct RouteInfo {
  net::IpPrefix dst;
  std::optional<net::IpAddress> gw;
  int oif = 0;
  int table = 0;
  int priority = 0;
  int scope = 0;
  int protocol = 0;
  int mtu = 0, advmss = 0;  // 0 = unset
};
// Unicast routes of `family` in every table.
std::vector<RouteInfo> list_routes(RtnlSocket& sk, net::Family family);

}  // namespace tether::netlink
