#pragma once
// The nftables backend of tether::firewall::Firewall (libnftnl through lib/nftables). Layout:
// ruleset.hpp. NAT and macspoofchk (NatPlan::spoof_check_mac) both go through add/check/del/gc.
#include <memory>

#include "lib/firewall/firewall.hpp"

namespace tether::firewall {

// Works in the netns current at each call (the host's), like the iptables backend.
std::unique_ptr<Firewall> make_nftables_firewall();

// True when this kernel has nf_tables (one netlink probe; creates nothing). Throws on EPERM: a
// caller without CAP_NET_ADMIN cannot tell, and must not conclude "no nftables".
bool nftables_available();

}  // namespace tether::firewall
