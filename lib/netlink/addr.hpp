#pragma once
// Interface addresses through an RtnlSocket (in the socket's netns).
#include <optional>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/netlink/socket.hpp"

namespace tether::netlink {

struct AddrOptions {
  bool nodad = false;           // IFA_F_NODAD (IPv6): usable at once, no ~1 s tentative phase
  bool noprefixroute = false;   // IFA_F_NOPREFIXROUTE
  bool broadcast = true;        // IPv4 shorter than /31: set the subnet broadcast (as CNI does)
};

// Adds `addr` (host address with its prefix, e.g. 10.0.0.5/24). An existing identical address →
// EEXIST → NlError unless tolerate_exists; returns false then.
bool add_address(RtnlSocket& sk, int ifindex, const net::IpPrefix& addr, const AddrOptions& opt = {},
                 bool tolerate_exists = false);
// Missing address → false.
bool delete_address(RtnlSocket& sk, int ifindex, const net::IpPrefix& addr);
// Addresses on `ifindex` (all families unless `family` given), global and link scope alike.
struct AddrInfo {
  net::IpPrefix prefix;
  int scope = 0;
  unsigned flags = 0;  // IFA_F_*
};
std::vector<AddrInfo> list_addresses(RtnlSocket& sk, int ifindex);

}  // namespace tether::netlink
