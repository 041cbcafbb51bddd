#pragma once
// The nftables backend of tether::firewall::Firewall (libnftnl through lib/nftables). Layout and
// behaviour: ruleset.hpp.
#include <memory>

#include "lib/firewall/firewall.hpp"
#include "lib/fw_nftables/ruleset.hpp"

namespace tether::firewall {

using nft::MacSpoofPlan;

// Firewall plus macspoofchk, which NatPlan does not carry yet: a separate call after add(). del()
// and gc() remove an attachment's macspoofchk objects with its NAT objects.
class NftablesFirewall : public Firewall {
 public:
  // Replaces the attachment's earlier macspoofchk objects; code 999 if the interface is
  // already checked for another attachment, code 7 for a bad name or MAC.
  virtual void add_macspoof(const MacSpoofPlan& plan) = 0;
  virtual void check_macspoof(const MacSpoofPlan& plan) = 0;
};

// Works in the netns current at each call (the host's), like the iptables backend.
std::unique_ptr<NftablesFirewall> make_nftables_firewall();

// True when this kernel has nf_tables (one netlink probe; creates nothing). Throws on EPERM: a
// caller without CAP_NET_ADMIN cannot tell, and must not conclude "no nftables".
bool nftables_available();

}  // namespace tether::firewall
