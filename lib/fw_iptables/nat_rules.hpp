#pragma once
// NatPlan -> the exact rules per family (pure; unit-tested). See iptables_firewall.cpp for the
// chain layout these rules live in.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/iptables/rule_spec.hpp"

namespace tether::firewall {

struct ChainRule {
  std::string chain;
  iptables::RuleSpec spec;
};

struct FamilyRules {
  net::Family family = net::Family::V4;
  std::vector<ChainRule> rules;  // per-attachment rules, all tagged with attachment_comment(key)
  bool hostports = false;        // needs TETHER-HOSTPORTS (+ jumps from PREROUTING/OUTPUT)
  bool postrouting = false;      // needs TETHER-POSTROUTING (+ jump from POSTROUTING)
  std::vector<std::uint16_t> udp_host_ports;
  // Per-network rules (tagged network_rule_comment): mark traffic from the container subnets to
  // host addresses so a DNAT'ed connection that comes back out toward the subnet (hairpin: a
  // container reaching its own or a neighbour's published port) is masqueraded.
  std::vector<ChainRule> network_rules;
};

// Only families with at least one rule are returned.
std::vector<FamilyRules> nat_rules(const NatPlan& plan);

// The masquerade of a whole subnet, used for attachments of `network` that have DNAT rules (which
// already identify them); it lives while the network has a DNAT rule.
ChainRule network_masquerade(const std::string& network, const net::IpPrefix& subnet);

// The shared skeleton of one family.
struct Jump {
  std::string from;  // built-in chain
  iptables::RuleSpec spec;
};
std::vector<Jump> hostports_jumps(net::Family family);
Jump postrouting_jump(net::Family family);
// First rules of TETHER-POSTROUTING, in order: (v4 only) masquerade loopback sources leaving a
// real interface (DNAT'ed 127.0.0.1), masquerade what the hairpin rules marked, never
// masquerade multicast.
std::vector<iptables::RuleSpec> postrouting_shared_rules(net::Family family);

}  // namespace tether::firewall
