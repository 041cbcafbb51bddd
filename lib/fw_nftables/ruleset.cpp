#include "lib/fw_nftables/ruleset.hpp"

#include <algorithm>
#include <cstdio>

#include "lib/firewall/naming.hpp"
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
using nftables::Statement;
using nftables::Verdict;

constexpr std::uint32_t kRtnLocal = 2;  // RTN_LOCAL
constexpr std::string_view kPrefix = "att-";
constexpr std::size_t kHashLen = 16;

net::Family net_family(Family f) { return f == Family::Ip ? net::Family::V4 : net::Family::V6; }

struct Proto {
  const char* name;
  std::uint8_t number;
};
constexpr Proto kProtos[] = {{"tcp", 6}, {"udp", 17}, {"sctp", 132}};

const char* proto_name(std::uint32_t number) {
  for (const auto& p : kProtos)
    if (p.number == number) return p.name;
  return nullptr;
}

struct Mapping {
  std::uint8_t proto;
  std::optional<net::IpAddress> host_ip;  // nullopt = every local address
  std::uint16_t host_port, container_port;
};

// Validated when parsed (net::PortMapping): only the representation changes here.
Mapping mapping_of(const PortMapping& m) {
  return {static_cast<std::uint8_t>(m.protocol), m.host_ip, m.host_port, m.container_port};
}

Match match(Field f, nftables::MatchValue v, bool negate = false) { return Match{f, negate, std::move(v), 0xffffffff}; }
net::IpPrefix host(const net::IpAddress& a) { return net::IpPrefix(a, a.is_v4() ? 32 : 128); }
Verdict go_to(const std::string& chain) { return Verdict{Verdict::Kind::Goto, chain}; }

Element element(Family f, const char* map, nftables::Bytes key, std::string label, const std::string& chain,
                const std::string& comment) {
  Element e;
  e.family = f;
  e.table = kTable;
  e.set = map;
  e.key = std::move(key);
  e.label = std::move(label);
  e.verdict = go_to(chain);
  e.comment = comment;
  return e;
}

Element dnat_element(Family f, const std::optional<net::IpAddress>& host_ip, std::uint8_t proto, std::uint16_t port,
                     const std::string& chain, const std::string& comment) {
  KeyBuilder k;
  std::string label;
  if (host_ip) {
    k.address(*host_ip);
    label = host_ip->to_string() + " . ";
  }
  k.proto(proto).port(port);
  const char* pname = proto_name(proto);
  label += std::string(pname ? pname : std::to_string(proto).c_str()) + " . " + std::to_string(port);
  return element(f, host_ip ? kHostIpHostportsMap : kHostportsMap, k.bytes(), label, chain, comment);
}

Element masq_element(Family f, const net::IpAddress& ip, const std::string& chain, const std::string& comment) {
  return element(f, kMasqMap, KeyBuilder(false).address(ip).bytes(), ip.to_string(), chain, comment);
}

Rule rule(Family f, const std::string& chain, std::vector<Statement> s, std::string comment = {}) {
  Rule r;
  r.family = f;
  r.table = kTable;
  r.chain = chain;
  r.statements = std::move(s);
  r.comment = std::move(comment);
  return r;
}

std::optional<AttachmentObjects> objects_for(const NatPlan& plan, Family f, const std::vector<Mapping>& mappings) {
  std::vector<net::IpPrefix> ips;
  for (const auto& p : plan.container_ips)
    if (p.family() == net_family(f)) ips.push_back(p);
  if (ips.empty()) return std::nullopt;
  AttachmentObjects out;
  out.family = f;
  const std::string hash = attachment_hash(plan.key);
  const std::string comment = attachment_comment(plan.key);
  const net::IpAddress target = ips.front().address();
  std::vector<net::IpPrefix> subnets;
  for (const auto& ip : ips)
    if (std::find(subnets.begin(), subnets.end(), ip.network()) == subnets.end()) subnets.push_back(ip.network());

  std::vector<const Mapping*> mine;
  for (const auto& m : mappings)
    if (!m.host_ip || m.host_ip->family() == net_family(f)) mine.push_back(&m);  // a v4 hostIP is v4-only
  if (!mine.empty()) {
    const std::string chain = attachment_chain(hash, ChainKind::Dnat);
    out.chains.push_back(Chain{f, kTable, chain, comment, std::nullopt, 0});
    // Hairpin: a container reaching a published port of its own subnet; the answer would go
    // straight back to it (or be dropped as a martian) unless postrouting masquerades it.
    for (const auto& s : subnets)
      out.rules.push_back(rule(f, chain, {match(Field::SAddr, s), nftables::SetMarkBits{kMasqMark}}, comment));
    for (const Mapping* m : mine) {
      std::vector<Statement> s;
      if (m->host_ip) s.push_back(match(Field::DAddr, host(*m->host_ip)));
      s.push_back(match(Field::L4Proto, std::uint32_t{m->proto}));
      s.push_back(match(Field::ThDport, std::uint32_t{m->host_port}));
      s.push_back(nftables::DnatTo{target, m->container_port});
      out.rules.push_back(rule(f, chain, std::move(s), comment));
      out.elements.push_back(dnat_element(f, m->host_ip, m->proto, m->host_port, chain, comment));
      if (m->proto == 17) out.udp_host_ports.push_back(m->host_port);
    }
  }
  if (plan.ip_masq) {
    const std::string chain = attachment_chain(hash, ChainKind::Masq);
    out.chains.push_back(Chain{f, kTable, chain, comment, std::nullopt, 0});
    for (const auto& ip : ips) {
      // Multicast never reaches this chain: postrouting returns it first.
      out.rules.push_back(rule(f, chain,
                               {match(Field::SAddr, host(ip.address())), match(Field::DAddr, ip.network(), true),
                                nftables::Masquerade{}},
                               comment));
      out.elements.push_back(masq_element(f, ip.address(), chain, comment));
    }
  }
  if (out.chains.empty()) return std::nullopt;
  std::sort(out.udp_host_ports.begin(), out.udp_host_ports.end());
  out.udp_host_ports.erase(std::unique(out.udp_host_ports.begin(), out.udp_host_ports.end()), out.udp_host_ports.end());
  return out;
}

}  // namespace

const char* suffix(ChainKind kind) {
  switch (kind) {
    case ChainKind::Dnat: return "-dnat";
    case ChainKind::Masq: return "-masq";
    case ChainKind::Mac: return "-mac";
  }
  return "";
}

std::string attachment_chain(const std::string& attachment_hash, ChainKind kind) {
  return std::string(kPrefix) + attachment_hash + suffix(kind);
}

std::optional<ParsedChainName> parse_attachment_chain(const std::string& name) {
  if (name.size() < kPrefix.size() + kHashLen || name.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  const std::string hash = name.substr(kPrefix.size(), kHashLen);
  if (hash.find_first_not_of("0123456789abcdef") != std::string::npos) return std::nullopt;
  const std::string rest = name.substr(kPrefix.size() + kHashLen);
  for (ChainKind k : {ChainKind::Dnat, ChainKind::Masq, ChainKind::Mac})
    if (rest == suffix(k)) return ParsedChainName{hash, k};
  return std::nullopt;
}

std::vector<ChainKind> chain_kinds(Family f) {
  if (f == Family::Bridge) return {ChainKind::Mac};
  return {ChainKind::Dnat, ChainKind::Masq};
}

std::vector<std::string> map_names(Family f) {
  if (f == Family::Bridge) return {kMacspoofMap};
  return {kHostportsMap, kHostIpHostportsMap, kMasqMap};
}

namespace {
Skeleton bridge_skeleton() {
  const Family f = Family::Bridge;
  Skeleton s;
  s.table = nftables::Table{f, kTable, kTableComment};
  s.maps = {{f, kTable, kMacspoofMap, {KeyType::IfName}, true, {}, false}};
  // Before anything else on the bridge (priority -300, nft's "dstnat" for bridges).
  s.base_chains = {Chain{f, kTable, "prerouting", {}, nftables::BaseChain{nftables::Hook::Prerouting, -300, "filter", true}, 0}};
  s.rules = {rule(f, "prerouting", {nftables::VmapLookup{{Field::IifName}, kMacspoofMap}})};
  return s;
}
}  // namespace

Skeleton skeleton(Family f) {
  if (f == Family::Bridge) return bridge_skeleton();
  const bool v4 = f == Family::Ip;
  const KeyType addr = v4 ? KeyType::Ipv4Addr : KeyType::Ipv6Addr;
  Skeleton s;
  s.table = nftables::Table{f, kTable, kTableComment};
  s.maps = {
      {f, kTable, kHostportsMap, {KeyType::InetProto, KeyType::InetService}, true, {}, false},
      {f, kTable, kHostIpHostportsMap, {addr, KeyType::InetProto, KeyType::InetService}, true, {}, false},
      {f, kTable, kMasqMap, {addr}, true, {}, false},
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
    s.rules.push_back(rule(f, chain, {local, nftables::VmapLookup{{Field::DAddr, Field::L4Proto, Field::ThDport}, kHostIpHostportsMap}}));
    s.rules.push_back(rule(f, chain, {local, nftables::VmapLookup{{Field::L4Proto, Field::ThDport}, kHostportsMap}}));
  }
  const Match not_lo = match(Field::OifName, std::string("lo"), true);
  if (v4)  // 127.0.0.1 DNAT'ed to a container (route_localnet): the source must become routable.
    s.rules.push_back(rule(f, "postrouting", {not_lo, match(Field::SAddr, *net::IpPrefix::parse("127.0.0.0/8")), nftables::Masquerade{}}));
  s.rules.push_back(rule(f, "postrouting", {not_lo, Match{Field::Mark, false, kMasqMark, kMasqMark}, nftables::Masquerade{}}));
  s.rules.push_back(rule(f, "postrouting",
                         {match(Field::DAddr, *net::IpPrefix::parse(v4 ? "224.0.0.0/4" : "ff00::/8")),
                          nftables::VerdictStatement{Verdict{Verdict::Kind::Return, {}}}}));
  s.rules.push_back(rule(f, "postrouting", {nftables::VmapLookup{{Field::SAddr}, kMasqMap}}));
  return s;
}

std::size_t skeleton_objects(Family f) {
  const Skeleton s = skeleton(f);
  return s.maps.size() + s.base_chains.size();
}

AttachmentObjects macspoof_objects(const MacSpoofPlan& plan) {
  const std::string what = "macspoofchk for interface '" + plan.host_ifname + "' MAC '" + plan.mac + "'";
  if (plan.host_ifname.empty() || plan.host_ifname.size() >= 16) throw Error(what + ": bad interface name", kInvalidConfig);
  nftables::MacAddress mac{};
  unsigned b[6];
  char tail;
  if (std::sscanf(plan.mac.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
      plan.mac.size() != 17)
    throw Error(what + ": bad MAC address", kInvalidConfig);
  for (int i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(b[i]);
  const Family f = Family::Bridge;
  const std::string chain = attachment_chain(attachment_hash(plan.key), ChainKind::Mac);
  const std::string comment = attachment_comment(plan.key);
  AttachmentObjects out;
  out.family = f;
  out.chains.push_back(Chain{f, kTable, chain, comment, std::nullopt, 0});
  out.rules.push_back(rule(f, chain,
                           {match(Field::IifName, plan.host_ifname), match(Field::EtherSAddr, mac, true),
                            nftables::VerdictStatement{Verdict{Verdict::Kind::Drop, {}}}},
                           comment));
  out.elements.push_back(element(f, kMacspoofMap, KeyBuilder(false).ifname(plan.host_ifname).bytes(),
                                 "\"" + plan.host_ifname + "\"", chain, comment));
  return out;
}

std::vector<AttachmentObjects> attachment_objects(const NatPlan& plan) {
  std::vector<Mapping> mappings;
  for (const auto& m : plan.port_mappings) mappings.push_back(mapping_of(m));
  std::vector<AttachmentObjects> out;
  for (Family f : kNatFamilies)
    if (auto o = objects_for(plan, f, mappings)) out.push_back(std::move(*o));
  return out;
}

std::optional<ImpliedElement> element_of_rule(Family f, const std::string& chain, ChainKind kind,
                                              const std::vector<Statement>& rule) {
  auto addr_of = [](const Statement& s, Field field, bool negate) -> std::optional<net::IpPrefix> {
    const auto* m = std::get_if<Match>(&s);
    if (!m || m->field != field || m->negate != negate) return std::nullopt;
    const auto* p = std::get_if<net::IpPrefix>(&m->value);
    return p ? std::optional(*p) : std::nullopt;
  };
  auto number_of = [](const Statement& s, Field field) -> std::optional<std::uint32_t> {
    const auto* m = std::get_if<Match>(&s);
    if (!m || m->field != field || m->negate) return std::nullopt;
    const auto* n = std::get_if<std::uint32_t>(&m->value);
    return n ? std::optional(*n) : std::nullopt;
  };
  if (kind == ChainKind::Mac) {
    const auto* m = rule.size() == 3 ? std::get_if<Match>(&rule[0]) : nullptr;
    const auto* name = m && m->field == Field::IifName && !m->negate ? std::get_if<std::string>(&m->value) : nullptr;
    if (!name || name->empty() || name->size() >= 16) return std::nullopt;
    return ImpliedElement{element(f, kMacspoofMap, KeyBuilder(false).ifname(*name).bytes(), "\"" + *name + "\"", chain, {}),
                          std::nullopt};
  }
  if (kind == ChainKind::Masq) {
    if (rule.size() != 3 || !std::holds_alternative<nftables::Masquerade>(rule[2])) return std::nullopt;
    const auto src = addr_of(rule[0], Field::SAddr, false);
    if (!src || src->length() != src->max_length()) return std::nullopt;
    return ImpliedElement{masq_element(f, src->address(), chain, {}), std::nullopt};
  }
  if (rule.empty() || !std::holds_alternative<nftables::DnatTo>(rule.back())) return std::nullopt;
  std::size_t i = 0;
  std::optional<net::IpAddress> host_ip;
  if (const auto dst = addr_of(rule[0], Field::DAddr, false)) {
    if (dst->length() != dst->max_length()) return std::nullopt;
    host_ip = dst->address();
    ++i;
  }
  if (rule.size() != i + 3) return std::nullopt;
  const auto proto = number_of(rule[i], Field::L4Proto);
  const auto port = number_of(rule[i + 1], Field::ThDport);
  if (!proto || !port || *proto > 255 || *port > 65535) return std::nullopt;
  ImpliedElement out{dnat_element(f, host_ip, static_cast<std::uint8_t>(*proto), static_cast<std::uint16_t>(*port), chain, {}),
                     std::nullopt};
  if (*proto == 17) out.udp_port = static_cast<std::uint16_t>(*port);
  return out;
}

}  // namespace tether::firewall::nft
