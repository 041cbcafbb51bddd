#pragma once
// Interface addresses through an RtnlSocket (in the socket's netns).
#include <chrono>
#include <optional>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/netlink/socket.hpp"

namespace tether::netlink {

struct AddrOptions {
  bool nodad = false;          // IFA_F_NODAD (IPv6): usable at once, no ~1 s tentative phase
  bool noprefixroute = false;  // IFA_F_NOPREFIXROUTE
  bool broadcast = true;       // IPv4 shorter than /31: set the subnet broadcast (as CNI does)
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

// Waits for Duplicate Address Detection of every IPv6 address on `ifindex` (link-local included)
// to end. Polled, as the reference does (simpler than subscribing to address events; each poll
// is one small kernel-filtered dump): every `interval` until none is IFA_F_TENTATIVE, one has
// IFA_F_DADFAILED (returned at once) or `timeout` passes. `addr`: the failed / still tentative one.
struct DadOutcome {
  enum Kind { kSettled, kFailed, kTimedOut } kind = kSettled;
  AddrInfo addr;
};
DadOutcome wait_ipv6_dad(RtnlSocket& sk, int ifindex, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds interval);

}  // namespace tether::netlink
