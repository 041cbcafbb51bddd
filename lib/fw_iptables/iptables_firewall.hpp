#pragma once
// The libiptc (legacy x_tables) backend of firewall::Firewall, IPv4 and IPv6 (layout and
// reasons: iptables_firewall.cpp).
#include <memory>

#include "lib/firewall/firewall.hpp"

namespace tether::firewall {

std::unique_ptr<Firewall> make_iptables_firewall();

// True when the legacy nat table exists in this netns (IPv4 or IPv6): someone (kube-proxy or
// Docker in legacy mode, or our own earlier rules) uses legacy x_tables here. Reads
// /proc/net/ip{,6}_tables_names only: looking creates nothing.
bool legacy_nat_in_use();

}  // namespace tether::firewall
