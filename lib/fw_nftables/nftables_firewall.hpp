#pragma once
// The nftables backend of tether::firewall::Firewall (libnftnl through lib/nftables). Layout and
// behaviour: ruleset.hpp.
#include <memory>

#include "lib/firewall/firewall.hpp"

namespace tether::firewall {

// Works in the netns current at each call (the host's), like the iptables backend.
std::unique_ptr<Firewall> make_nftables_firewall();

}  // namespace tether::firewall
