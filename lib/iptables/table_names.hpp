#pragma once
// Cheap facts about the legacy x_tables of the current netns, read without libiptc (an
// iptc_init would create the table in a netns that has none).
#include <string>

#include "lib/net/ip.hpp"

namespace tether::iptables {

// True when /proc/net/{ip,ip6}_tables_names lists `table` (the table exists in this netns).
bool table_exists(net::Family family, const std::string& table);

// True when the host's `iptables` command is the nf_tables variant (its rules and ours live in
// different kernel subsystems; ours are listed by iptables-legacy-save only).
bool host_iptables_is_nft();

}  // namespace tether::iptables
