#include "lib/fw_iptables/nat_rules.hpp"

#include <algorithm>
#include <optional>

#include "lib/firewall/naming.hpp"

namespace tether::firewall {
namespace {

using iptables::AddrMatch;
using iptables::RuleSpec;

net::IpPrefix host_prefix(const net::IpAddress& a) { return net::IpPrefix(a, a.is_v4() ? 32 : 128); }

iptables::Proto proto_of(const PortMapping& m) { return static_cast<iptables::Proto>(m.protocol); }

FamilyRules rules_for(const NatPlan& plan, net::Family family) {
  FamilyRules fr;
  fr.family = family;
  const std::string comment = attachment_comment(plan.key);
  std::vector<net::IpPrefix> ips;
  for (const auto& p : plan.container_ips)
    if (p.family() == family) ips.push_back(p);
  if (ips.empty()) return fr;

  const net::IpAddress target = ips.front().address();
  bool any_dnat = false;
  for (const auto& m : plan.port_mappings) {
    if (!m.applies_to(family)) continue;
    RuleSpec s;
    s.family = family;
    if (m.host_ip) s.dst = AddrMatch{host_prefix(*m.host_ip)};
    s.proto = proto_of(m);
    s.dport = m.host_port;
    s.comment = comment;
    s.target = iptables::Dnat{target, m.container_port};
    fr.rules.push_back({kHostportsChain, s});
    any_dnat = true;
  }
  fr.udp_host_ports = plan.udp_host_ports(family);
  std::vector<net::IpPrefix> subnets;
  for (const auto& ip : ips)
    if (std::find(subnets.begin(), subnets.end(), ip.network()) == subnets.end()) subnets.push_back(ip.network());
  if (any_dnat) {
    // Hairpin: a container reaching a published port of its own network comes back out toward
    // the subnet; without masquerade the target answers it directly (or, for itself, drops the
    // packet as a martian). Marked before DNAT (DNAT ends the chain), masqueraded in
    // TETHER-POSTROUTING. Only forwarded packets reach POSTROUTING: the mark on container ->
    // host-local traffic that is not DNAT'ed changes nothing.
    for (const auto& subnet : subnets) {
      RuleSpec s;
      s.family = family;
      s.src = AddrMatch{subnet};
      s.comment = network_rule_comment(plan.key.network);
      s.target = iptables::SetMark{kMasqMark, kMasqMark};
      fr.network_rules.push_back({kHostportsChain, s});
    }
    fr.hostports = fr.postrouting = true;
  }
  if (plan.ip_masq && any_dnat) {
    // The attachment's DNAT rules already carry its identity, so its masquerade can be the
    // network's: one rule per subnet, living as long as the network has a DNAT rule (like the
    // hairpin mark). Every legacy-iptables commit rewrites the whole table, so at 1,000
    // containers this halves what each ADD moves.
    for (const auto& subnet : subnets) fr.network_rules.push_back(network_masquerade(plan.key.network, subnet));
  } else if (plan.ip_masq) {
    for (const auto& ip : ips) {
      RuleSpec s;
      s.family = family;
      s.src = AddrMatch{host_prefix(ip.address())};
      s.dst = AddrMatch{ip.network(), true};  // multicast is excluded by the shared RETURN rule
      s.comment = comment;
      s.target = iptables::Masquerade{};
      fr.rules.push_back({kPostroutingChain, s});
    }
    fr.postrouting = true;
  }
  return fr;
}

}  // namespace

std::vector<FamilyRules> nat_rules(const NatPlan& plan) {
  std::vector<FamilyRules> out;
  for (auto family : {net::Family::V4, net::Family::V6}) {
    FamilyRules fr = rules_for(plan, family);
    if (!fr.rules.empty()) out.push_back(std::move(fr));
  }
  return out;
}

ChainRule network_masquerade(const std::string& network, const net::IpPrefix& subnet) {
  RuleSpec s;
  s.family = subnet.family();
  s.src = AddrMatch{subnet};
  s.dst = AddrMatch{subnet, true};  // multicast is excluded by the shared RETURN rule
  s.comment = network_rule_comment(network);
  s.target = iptables::Masquerade{};
  return {kPostroutingChain, s};
}

std::vector<Jump> hostports_jumps(net::Family family) {
  RuleSpec s;
  s.family = family;
  s.dst_type_local = true;  // only traffic to this host's own addresses is published-port traffic
  s.comment = shared_comment("hostports");
  s.target = iptables::Verdict{kHostportsChain};
  return {{"PREROUTING", s}, {"OUTPUT", s}};
}

Jump postrouting_jump(net::Family family) {
  RuleSpec s;
  s.family = family;
  s.comment = shared_comment("postrouting");
  s.target = iptables::Verdict{kPostroutingChain};
  return {"POSTROUTING", s};
}

std::vector<iptables::RuleSpec> postrouting_shared_rules(net::Family family) {
  const bool v4 = family == net::Family::V4;
  RuleSpec hairpin;
  hairpin.family = family;
  // Not through lo: host-originated local traffic from the gateway address gets marked too (it is
  // in the subnet) and must keep its source.
  hairpin.out = iptables::IfaceMatch{"lo", true};
  hairpin.mark = iptables::MarkMatch{kMasqMark, kMasqMark};
  hairpin.comment = shared_comment("hairpin");
  hairpin.target = iptables::Masquerade{};

  RuleSpec multicast;
  multicast.family = family;
  multicast.dst = AddrMatch{*net::IpPrefix::parse(v4 ? "224.0.0.0/4" : "ff00::/8")};
  multicast.comment = shared_comment("multicast");
  multicast.target = iptables::Verdict{"RETURN"};
  // No IPv6 twin: a DNAT'ed [::1] connection cannot work (the reply, de-NAT'ed to ::1, arrives on
  // a non-loopback device and IPv6 will not route it; there is no route_localnet for IPv6).
  if (!v4) return {hairpin, multicast};

  RuleSpec loopback;
  loopback.family = family;
  loopback.src = AddrMatch{*net::IpPrefix::parse("127.0.0.0/8")};
  // Leaving through lo it is ordinary local traffic: masquerading it would change its source.
  loopback.out = iptables::IfaceMatch{"lo", true};
  loopback.comment = shared_comment("localhost");
  loopback.target = iptables::Masquerade{};
  return {loopback, hairpin, multicast};
}

}  // namespace tether::firewall
