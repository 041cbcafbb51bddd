#include "lib/fw_nftables/ruleset.hpp"

#include <algorithm>

#include "lib/firewall/naming.hpp"
#include "lib/net/mac.hpp"
#include "lib/nftables/key.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall::nft {
namespace {

using nftables::Chain;
using nftables::Element;
using nftables::Field;
using nftables::KeyBuilder;
using nftables::KeyType;
using nftables::Match;
using nftables::Rule;
using nftables::Set;
using nftables::Statement;

constexpr std::uint32_t kRtnLocal = 2;      // RTN_LOCAL
constexpr std::uint32_t kIpsDstNat = 0x20;  // IPS_DST_NAT: `ct status dnat`
constexpr std::size_t kIndexKeyLen = 15;    // an ifname nft can print and parse back
constexpr std::uint8_t kUdp = 17;

net::Family net_family(Family f) { return f == Family::Ip ? net::Family::V4 : net::Family::V6; }

const char* proto_name(std::uint8_t number) {
  switch (number) {
    case 6: return "tcp";
    case 17: return "udp";
    case 132: return "sctp";
  }
  return nullptr;
}

std::string proto_text(std::uint8_t number) {
  const char* name = proto_name(number);
  return name ? name : std::to_string(number);
}

Match match(Field f, nftables::MatchValue v, bool negate = false) { return Match{f, negate, std::move(v), 0xffffffff}; }

Rule rule(Family f, const std::string& chain, std::vector<Statement> s) {
  Rule r;
  r.family = f;
  r.table = kTable;
  r.chain = chain;
  r.statements = std::move(s);
  return r;
}

Set set(Family f, const char* name, std::vector<KeyType> key, std::vector<KeyType> data = {}, bool interval = false) {
  Set s;
  s.family = f;
  s.table = kTable;
  s.name = name;
  s.key = std::move(key);
  s.data = std::move(data);
  s.interval = interval;
  return s;
}

Element element(Family f, const char* set, nftables::Bytes key, std::string label, const std::string& comment) {
  Element e;
  e.family = f;
  e.table = kTable;
  e.set = set;
  e.key = std::move(key);
  e.label = std::move(label);
  e.comment = comment;
  return e;
}

// The `subnets` element of a network subnet S: `S . S`, a range in both fields (nft writes
// `10.77.0.0/24` as the range of its first to its last address).
Element subnet_element(Family f, const net::IpPrefix& subnet, const std::string& network) {
  const net::IpPrefix s = subnet.network();
  Element e = element(f, kSubnetsSet, KeyBuilder().address(s.first()).address(s.first()).bytes(),
                      s.to_string() + " . " + s.to_string(), network_rule_comment(network));
  e.key_end = KeyBuilder().address(s.last()).address(s.last()).bytes();
  return e;
}

struct Mapping {
  std::uint8_t proto;
  std::optional<net::IpAddress> host_ip;  // nullopt = every local address
  std::uint16_t host_port, container_port;
};

Element dnat_element(Family f, const Mapping& m, const net::IpAddress& target, const std::string& comment) {
  KeyBuilder k;
  std::string label;
  if (m.host_ip) {
    k.address(*m.host_ip);
    label = m.host_ip->to_string() + " . ";
  }
  k.proto(m.proto).port(m.host_port);
  label += proto_text(m.proto) + " . " + std::to_string(m.host_port);
  Element e = element(f, m.host_ip ? kHostIpHostportsMap : kHostportsMap, k.bytes(), label, comment);
  e.data = KeyBuilder().address(target).port(m.container_port).bytes();
  return e;
}

std::optional<AttachmentObjects> nat_objects(const NatPlan& plan, Family f, const std::vector<Mapping>& mappings) {
  std::vector<net::IpPrefix> ips;
  for (const auto& p : plan.container_ips)
    if (p.family() == net_family(f)) ips.push_back(p);
  if (ips.empty()) return std::nullopt;
  const std::string comment = attachment_comment(plan.key);
  AttachmentObjects out;
  out.family = f;
  out.elements.push_back(index_element(f, plan.key));
  const net::IpAddress target = ips.front().address();
  std::vector<net::IpPrefix> subnets;
  for (const auto& ip : ips)
    if (std::find(subnets.begin(), subnets.end(), ip.network()) == subnets.end()) subnets.push_back(ip.network());

  bool published = false;
  for (const auto& m : mappings) {
    if (m.host_ip && m.host_ip->family() != net_family(f)) continue;  // a v4 hostIP is v4-only
    out.elements.push_back(dnat_element(f, m, target, comment));
    if (m.proto == kUdp) out.udp_host_ports.push_back(m.host_port);
    published = true;
  }
  if (plan.ip_masq)
    for (const auto& ip : ips)
      out.elements.push_back(
          element(f, kMasqSet, KeyBuilder(false).address(ip.address()).bytes(), ip.address().to_string(), comment));
  // Hairpin (published ports) and ipMasq's exception (traffic within the subnet) both need it.
  if (published || plan.ip_masq)
    for (const auto& s : subnets) out.network_elements.push_back(subnet_element(f, s, plan.key.network));
  if (out.elements.size() == 1) return std::nullopt;  // nothing but the index
  std::sort(out.udp_host_ports.begin(), out.udp_host_ports.end());
  out.udp_host_ports.erase(std::unique(out.udp_host_ports.begin(), out.udp_host_ports.end()), out.udp_host_ports.end());
  return out;
}

AttachmentObjects macspoof_objects(const NatPlan& plan) {
  const std::string& ifname = plan.host_ifname;
  const std::string mac = net::format_mac(*plan.spoof_check_mac);
  if (ifname.empty() || ifname.size() >= 16)
    throw Error("macspoofchk for MAC " + mac + ": host interface name '" + ifname + "' must have 1-15 characters",
                kInvalidConfig);
  const Family f = Family::Bridge;
  const std::string comment = attachment_comment(plan.key);
  const std::string quoted = "\"" + ifname + "\"";
  AttachmentObjects out;
  out.family = f;
  out.elements.push_back(index_element(f, plan.key));
  out.elements.push_back(element(f, kSpoofcheckSet, KeyBuilder(false).ifname(ifname).bytes(), quoted, comment));
  out.elements.push_back(element(f, kAllowedSet, KeyBuilder().ifname(ifname).ether(*plan.spoof_check_mac).bytes(),
                                 quoted + " . " + mac, comment));
  return out;
}

Skeleton bridge_skeleton() {
  const Family f = Family::Bridge;
  Skeleton s;
  s.table = nftables::Table{f, kTable, kTableComment};
  s.sets = {set(f, kSpoofcheckSet, {KeyType::IfName}), set(f, kAllowedSet, {KeyType::IfName, KeyType::EtherAddr}),
            set(f, kAttachmentsSet, {KeyType::IfName})};
  // Before anything else on the bridge (priority -300, nft's "dstnat" for bridges).
  s.base_chains = {
      Chain{f, kTable, "prerouting", {}, nftables::BaseChain{nftables::Hook::Prerouting, -300, "filter", true}, 0}};
  s.rules = {rule(f, "prerouting",
                  {nftables::SetLookup{{Field::IifName}, kSpoofcheckSet, false},
                   nftables::SetLookup{{Field::IifName, Field::EtherSAddr}, kAllowedSet, true},
                   nftables::VerdictStatement{nftables::Verdict{nftables::Verdict::Kind::Drop, {}}}})};
  return s;
}

}  // namespace

Skeleton skeleton(Family f) {
  if (f == Family::Bridge) return bridge_skeleton();
  const bool v4 = f == Family::Ip;
  const KeyType addr = v4 ? KeyType::Ipv4Addr : KeyType::Ipv6Addr;
  Skeleton s;
  s.table = nftables::Table{f, kTable, kTableComment};
  s.sets = {
      set(f, kHostportsMap, {KeyType::InetProto, KeyType::InetService}, {addr, KeyType::InetService}),
      set(f, kHostIpHostportsMap, {addr, KeyType::InetProto, KeyType::InetService}, {addr, KeyType::InetService}),
      set(f, kMasqSet, {addr}),
      set(f, kSubnetsSet, {addr, addr}, {}, true),
      set(f, kAttachmentsSet, {KeyType::IfName}),
  };
  using nftables::BaseChain;
  using nftables::Hook;
  s.base_chains = {
      Chain{f, kTable, "prerouting", {}, BaseChain{Hook::Prerouting, -100, "nat", true}, 0},
      Chain{f, kTable, "output", {}, BaseChain{Hook::Output, -100, "nat", true}, 0},
      Chain{f, kTable, "postrouting", {}, BaseChain{Hook::Postrouting, 100, "nat", true}, 0},
  };
  // Only traffic addressed to this host is published-port traffic (CNI portmap hijacked
  // forwarded traffic until v1.9.0). A hostIP mapping is more specific: looked up first.
  const Match local = match(Field::FibDaddrType, kRtnLocal);
  for (const char* chain : {"prerouting", "output"}) {
    s.rules.push_back(
        rule(f, chain,
             {local, nftables::DnatMap{{Field::DAddr, Field::L4Proto, Field::ThDport}, kHostIpHostportsMap}}));
    s.rules.push_back(rule(f, chain, {local, nftables::DnatMap{{Field::L4Proto, Field::ThDport}, kHostportsMap}}));
  }
  if (v4)  // 127.0.0.1 DNAT'ed to a container (route_localnet): the source must become routable.
    s.rules.push_back(rule(f, "postrouting",
                           {match(Field::OifName, std::string("lo"), true),
                            match(Field::SAddr, *net::IpPrefix::parse("127.0.0.0/8")), nftables::Masquerade{}}));
  s.rules.push_back(
      rule(f, "postrouting",
           {match(Field::CtStatus, kIpsDstNat), nftables::SetLookup{{Field::SAddr, Field::DAddr}, kSubnetsSet, false},
            nftables::Masquerade{}}));
  s.rules.push_back(rule(f, "postrouting",
                         {match(Field::DAddr, *net::IpPrefix::parse(v4 ? "224.0.0.0/4" : "ff00::/8")),
                          nftables::VerdictStatement{nftables::Verdict{nftables::Verdict::Kind::Return, {}}}}));
  s.rules.push_back(rule(f, "postrouting",
                         {nftables::SetLookup{{Field::SAddr, Field::DAddr}, kSubnetsSet, false},
                          nftables::VerdictStatement{nftables::Verdict{nftables::Verdict::Kind::Return, {}}}}));
  s.rules.push_back(
      rule(f, "postrouting", {nftables::SetLookup{{Field::SAddr}, kMasqSet, false}, nftables::Masquerade{}}));
  return s;
}

std::vector<std::string> set_names(Family f) {
  std::vector<std::string> out;
  for (const auto& s : skeleton(f).sets) out.push_back(s.name);
  return out;
}

std::size_t skeleton_objects(Family f) {
  const Skeleton s = skeleton(f);
  return s.sets.size() + s.base_chains.size();
}

Element index_element(Family f, const AttachmentKey& key) {
  const std::string name = attachment_hash(key).substr(0, kIndexKeyLen);
  return element(f, kAttachmentsSet, KeyBuilder(false).ifname(name).bytes(), "\"" + name + "\"",
                 attachment_comment(key));
}

std::vector<AttachmentObjects> attachment_objects(const NatPlan& plan) {
  std::vector<Mapping> mappings;
  for (const auto& m : plan.port_mappings)  // validated when parsed (net::PortMapping)
    mappings.push_back({static_cast<std::uint8_t>(m.protocol), m.host_ip, m.host_port, m.container_port});
  std::vector<AttachmentObjects> out;
  for (Family f : {Family::Ip, Family::Ip6})
    if (auto o = nat_objects(plan, f, mappings)) out.push_back(std::move(*o));
  if (plan.spoof_check_mac) out.push_back(macspoof_objects(plan));
  return out;
}

std::optional<std::uint16_t> udp_host_port(Family f, const std::string& set, const nftables::Bytes& key) {
  // Keys as dnat_element writes them: [address] . proto (4-byte slot) . port (4-byte slot)
  std::size_t at;
  if (set == kHostportsMap)
    at = 0;
  else if (set == kHostIpHostportsMap)
    at = f == Family::Ip ? 4 : 16;
  else
    return std::nullopt;
  if (key.size() != at + 8 || key[at] != kUdp) return std::nullopt;
  return static_cast<std::uint16_t>(key[at + 4] << 8 | key[at + 5]);
}

std::string conflict_text(const std::string& set, const std::string& label) {
  if (set == kHostportsMap || set == kHostIpHostportsMap) return "host port " + label + " is already published";
  if (set == kMasqSet) return "container address " + label + " is already masqueraded";
  if (set == kSubnetsSet)
    return "subnet " + label.substr(0, label.find(' ')) + " overlaps the subnet of another network";
  if (set == kSpoofcheckSet || set == kAllowedSet) return "interface " + label + " is already MAC-checked";
  if (set == kAttachmentsSet) return "attachment index " + label + " is taken";
  return "element { " + label + " } of @" + set + " exists";
}

}  // namespace tether::firewall::nft
