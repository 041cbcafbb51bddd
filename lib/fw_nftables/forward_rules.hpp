#pragma once
// A routed network's FORWARD accepts on nftables, as plain lib/nftables objects (pure). They go
// into iptables-nft's `ip filter` / `ip6 filter` (Docker's default on Debian >= 10, firewall
// scripts), where a FORWARD policy drop lives: exactly what the libiptc backend writes into legacy
// tables (fw_iptables/forward_staging.hpp), with the expressions iptables-nft 1.8.9 writes for the
// same rule text, so that iptables-nft-save lists them and `iptables-nft -C` matches them:
//   DOCKER-USER where Docker made it, else FORWARD ── jump, first ──> TETHER-FORWARD
//     -m comment --comment "tether:shared forward" -j TETHER-FORWARD
//   TETHER-FORWARD, per network and subnet S (comment forward_rule_comment(network)):
//     -d S -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment C -j ACCEPT
//     -d S -m conntrack --ctstate DNAT -m comment --comment C -j ACCEPT
//     -s S -m comment --comment C -j ACCEPT
// conntrack and comment are x_tables matches (nf_tables' compat `match` expression): a native ct
// expression makes iptables-nft refuse the whole table.
// Nothing goes into our own tables: an nft accept ends only its own base chain, so it cannot
// override a drop in another table, and nothing of ours drops forwarded traffic.
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/objects.hpp"

namespace tether::firewall::nft {

inline constexpr const char* kFilterTable = "filter";  // iptables-nft's table
inline constexpr const char* kFilterForward = "FORWARD";
inline constexpr const char* kDockerUser = "DOCKER-USER";
inline constexpr const char* kXtForwardChain = "TETHER-FORWARD";

// The plan's subnets of `family` (ip: v4, ip6: v6).
std::vector<net::IpPrefix> forward_subnets(const ForwardPlan& plan, Family family);

// iptables-nft's table: the plan's rules for TETHER-FORWARD (empty without a subnet of the
// family), and the jump to it from `from` (FORWARD or DOCKER-USER).
std::vector<nftables::Rule> xt_forward_rules(const ForwardPlan& plan, Family family);
nftables::Rule xt_forward_jump(Family family, const std::string& from);
nftables::Chain xt_forward_chain(Family family);
// "-A TETHER-FORWARD -d 10.9.0.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -m comment
// --comment "..." -j ACCEPT", as iptables-nft-save lists the rule (messages).
std::string xt_rule_text(const nftables::Rule& rule);

}  // namespace tether::firewall::nft
