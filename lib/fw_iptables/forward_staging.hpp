#pragma once
// The legacy filter table's FORWARD accepts of routed networks (pure staging on an open TableTxn
// of the filter table; never commits):
//
//   FORWARD, or DOCKER-USER where Docker made it ── jump, inserted first ──> TETHER-FORWARD
//   TETHER-FORWARD, per network (comment "tether:<net-hash>:forward net=<name>"), per subnet:
//     -d <subnet> -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT   replies to the containers
//     -d <subnet> -m conntrack --ctstate DNAT -j ACCEPT                  published ports
//     -s <subnet> -j ACCEPT                                              the containers' own traffic
//
// Docker documents DOCKER-USER for exactly this, and never rewrites it; without Docker the jump
// goes first in FORWARD, before whatever drops.
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/iptables/rule_spec.hpp"
#include "lib/iptables/table_txn.hpp"

namespace tether::firewall {

inline constexpr const char* kForwardChain = "TETHER-FORWARD";

// The rules of `plan` in `family` (empty when it has no subnet of that family).
std::vector<iptables::RuleSpec> forward_rules(const ForwardPlan& plan, net::Family family);
// Creates the chain and the jump if missing and appends the rules that are missing.
void ensure_forward_rules(iptables::TableTxn& txn, const ForwardPlan& plan, net::Family family);
// Removes the network's rules; the chain and its jumps go with the last network. Returns how many
// rules were removed.
std::size_t remove_forward_rules(iptables::TableTxn& txn, const std::string& network);
// The save lines of the plan's rules (and the jump) that are not in the table.
std::vector<std::string> missing_forward_rules(const iptables::TableTxn& txn, const ForwardPlan& plan,
                                               net::Family family);

}  // namespace tether::firewall
