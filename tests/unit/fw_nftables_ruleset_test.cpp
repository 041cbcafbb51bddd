// The nftables backend's pure part: which objects a NatPlan becomes, and reading element keys
// back out of an attachment's rules (what DEL relies on without the netns or the addresses).
#include <gtest/gtest.h>

#include <algorithm>

#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall::nft {
namespace {

NatPlan plan() {
  NatPlan p;
  p.key = {"net1", "ctr-a", "eth0"};
  p.ip_masq = true;
  p.container_ips = {*net::IpPrefix::parse("10.77.0.2/24"), *net::IpPrefix::parse("fd77::2/64")};
  p.port_mappings = {{8080, 80, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, {}}, {8081, 81, net::L4Proto::Tcp, net::IpAddress::parse("10.1.1.1")}, {8443, 443, net::L4Proto::Tcp, net::IpAddress::parse("fd01::1")}};
  return p;
}

TEST(NftRuleset, PlanBecomesPerFamilyChainsRulesAndElements) {
  const auto objs = attachment_objects(plan());
  ASSERT_EQ(objs.size(), 2u);
  const auto& v4 = objs[0];
  EXPECT_EQ(v4.family, Family::Ip);
  const std::string h = attachment_hash(plan().key);
  ASSERT_EQ(v4.chains.size(), 2u);
  EXPECT_EQ(v4.chains[0].name, "att-" + h + "-dnat");
  EXPECT_EQ(v4.chains[1].name, "att-" + h + "-masq");
  EXPECT_EQ(v4.chains[0].comment, attachment_comment(plan().key));
  // hairpin + 3 v4 mappings (the v6 hostIP mapping is v6-only) + 1 masquerade
  EXPECT_EQ(v4.rules.size(), 5u);
  std::vector<std::string> labels;
  for (const auto& e : v4.elements) labels.push_back(e.set + " " + e.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"hostports tcp . 8080", "hostports udp . 5353",
                                              "hostip_hostports 10.1.1.1 . tcp . 8081", "masq 10.77.0.2"}));
  EXPECT_EQ(v4.udp_host_ports, std::vector<std::uint16_t>{5353});
  const auto& v6 = objs[1];
  labels.clear();
  for (const auto& e : v6.elements) labels.push_back(e.set + " " + e.label);
  EXPECT_EQ(labels, (std::vector<std::string>{"hostports tcp . 8080", "hostports udp . 5353",
                                              "hostip_hostports fd01::1 . tcp . 8443", "masq fd77::2"}));
  for (const auto& o : objs)
    for (const auto& e : o.elements) {
      ASSERT_TRUE(e.verdict);
      EXPECT_EQ(e.verdict->kind, nftables::Verdict::Kind::Goto);
      EXPECT_EQ(e.verdict->chain, e.set == kMasqMap ? o.chains.back().name : o.chains.front().name);
    }
}

TEST(NftRuleset, RulesTellWhichElementsAreTheirs) {
  for (const auto& o : attachment_objects(plan())) {
    std::vector<nftables::Element> implied;
    for (const auto& r : o.rules) {
      const auto parsed = parse_attachment_chain(r.chain);
      ASSERT_TRUE(parsed);
      if (auto e = element_of_rule(o.family, r.chain, parsed->kind, r.statements)) implied.push_back(e->element);
    }
    ASSERT_EQ(implied.size(), o.elements.size());
    for (std::size_t i = 0; i < implied.size(); ++i) {
      EXPECT_EQ(implied[i].set, o.elements[i].set);
      EXPECT_EQ(implied[i].key, o.elements[i].key) << o.elements[i].label;
      EXPECT_EQ(implied[i].label, o.elements[i].label);
    }
  }
}

TEST(NftRuleset, OnlyWhatThePlanNeeds) {
  NatPlan p = plan();
  p.port_mappings.clear();
  p.container_ips.pop_back();
  auto objs = attachment_objects(p);
  ASSERT_EQ(objs.size(), 1u);
  ASSERT_EQ(objs[0].chains.size(), 1u);
  EXPECT_EQ(parse_attachment_chain(objs[0].chains[0].name)->kind, ChainKind::Masq);
  p.ip_masq = false;
  EXPECT_TRUE(attachment_objects(p).empty());
}

TEST(NftRuleset, ChainNamesParse) {
  EXPECT_EQ(parse_attachment_chain("att-0123456789abcdef-dnat")->attachment_hash, "0123456789abcdef");
  EXPECT_EQ(parse_attachment_chain("att-0123456789abcdef-masq")->kind, ChainKind::Masq);
  EXPECT_EQ(parse_attachment_chain("att-0123456789abcdef-mac")->kind, ChainKind::Mac);
  EXPECT_FALSE(parse_attachment_chain("prerouting"));
  EXPECT_FALSE(parse_attachment_chain("att-0123456789abcdeX-dnat"));
  EXPECT_FALSE(parse_attachment_chain("att-0123456789abcdef-snat"));
}

TEST(NftRuleset, SkeletonPerFamily) {
  const auto v4 = skeleton(Family::Ip), v6 = skeleton(Family::Ip6);
  EXPECT_EQ(v4.maps.size() + v4.base_chains.size(), skeleton_objects(Family::Ip));
  EXPECT_EQ(skeleton_objects(Family::Bridge), 2u);
  EXPECT_EQ(v4.rules.size(), v6.rules.size() + 1);  // IPv6 has no DNAT'ed-localhost masquerade
  EXPECT_EQ(v4.table.comment, "managed by tether");
}

TEST(NftRuleset, MacspoofObjectsAndTheirElement) {
  const MacSpoofPlan p{{"net1", "ctr-a", "eth0"}, "veth1234", "02:42:ac:11:00:02"};
  const auto o = macspoof_objects(p);
  EXPECT_EQ(o.family, Family::Bridge);
  ASSERT_EQ(o.chains.size(), 1u);
  EXPECT_EQ(o.chains[0].name, "att-" + attachment_hash(p.key) + "-mac");
  ASSERT_EQ(o.rules.size(), 1u);
  EXPECT_EQ(nftables::to_string(o.rules[0].statements), "iifname \"veth1234\" ether saddr != 02:42:ac:11:00:02 drop");
  ASSERT_EQ(o.elements.size(), 1u);
  const auto implied = element_of_rule(Family::Bridge, o.chains[0].name, ChainKind::Mac, o.rules[0].statements);
  ASSERT_TRUE(implied);
  EXPECT_EQ(implied->element.key, o.elements[0].key);
  EXPECT_EQ(implied->element.set, kMacspoofMap);
  for (const char* bad : {"02:42:ac:11:00", "02:42:ac:11:00:02:03", "zz:42:ac:11:00:02", ""}) {
    try {
      macspoof_objects({p.key, "veth1234", bad});
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 7) << bad;
    }
  }
  EXPECT_THROW(macspoof_objects({p.key, "0123456789abcdef", p.mac}), Error);
}

}  // namespace
}  // namespace tether::firewall::nft
