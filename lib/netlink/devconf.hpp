#pragma once
// Per-device IP settings through rtnetlink (IFLA_AF_SPEC, RTM_GETNETCONF) instead of /proc/sys.
// Why: every /proc/sys/net/... open walks a dentry hash chain shared by all network namespaces
// ("ipv4" under "net" exists once per netns), so a sysctl path gets dearer with every container
// on the node; a netlink request costs the same with 1 or 1,000 namespaces.
#include <cstdint>
#include <optional>

#include "lib/net/ip.hpp"
#include "lib/netlink/socket.hpp"

namespace tether::netlink {

struct LinkAfChange {
  std::optional<std::uint32_t> arp_notify;      // net.ipv4.conf.<if>.arp_notify
  std::optional<std::uint32_t> route_localnet;  // net.ipv4.conf.<if>.route_localnet
  // IFLA_INET6_ADDR_GEN_MODE none: no IPv6 link-local address, so no DAD, MLD or router
  // solicitations from this link. Takes effect for addresses generated after it (set it before
  // the link has carrier).
  bool ipv6_no_link_local = false;
  bool empty() const { return !arp_notify && !route_localnet && !ipv6_no_link_local; }
};
// One RTM_SETLINK on link `index` in the socket's netns (ipv6_no_link_local is dropped when the
// kernel has no IPv6 at all).
void change_link_af(RtnlSocket& sk, int index, const LinkAfChange& change);

// net.ipv4.conf.<link>.route_localnet as the kernel reports it in the link (one RTM_GETLINK).
bool route_localnet_enabled(RtnlSocket& sk, int index);

// net.ipv4.ip_forward / net.ipv6.conf.all.forwarding of the socket's netns (one RTM_GETNETCONF).
bool forwarding_enabled(RtnlSocket& sk, net::Family family);

}  // namespace tether::netlink
