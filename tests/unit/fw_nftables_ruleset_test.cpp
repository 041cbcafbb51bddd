// The nftables backend's pure part: which set/map elements a NatPlan becomes (the skeleton is
// compared with nft's own bytecode in tests/integration/firewall_nftables_test.cpp).
#include <gtest/gtest.h>

#include <algorithm>

#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/key.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall::nft {
namespace {

using nftables::Bytes;

NatPlan plan() {
  NatPlan p;
  p.key = {"net1", "ctr-a", "eth0"};
  p.ip_masq = true;
  p.container_ips = {*net::IpPrefix::parse("10.77.0.2/24"), *net::IpPrefix::parse("fd77::2/64")};
  p.port_mappings = {{8080, 80, net::L4Proto::Tcp, {}},
                     {5353, 53, net::L4Proto::Udp, {}},
                     {8081, 81, net::L4Proto::Tcp, net::IpAddress::parse("10.1.1.1")},
                     {8443, 443, net::L4Proto::Tcp, net::IpAddress::parse("fd01::1")}};
  return p;
}

std::vector<std::string> labels(const AttachmentObjects& o) {
  std::vector<std::string> out;
  for (const auto& e : o.elements) out.push_back(e.set + " " + e.label);
  for (const auto& e : o.network_elements) out.push_back("(network) " + e.set + " " + e.label);
  return out;
}

TEST(NftRuleset, PlanBecomesElementsPerFamily) {
  const NatPlan p = plan();
  const auto objs = attachment_objects(p);
  ASSERT_EQ(objs.size(), 2u);
  const std::string idx = "attachments \"" + attachment_hash(p.key).substr(0, 15) + "\"";
  EXPECT_EQ(objs[0].family, Family::Ip);
  // The v6 hostIP mapping is v6-only, the v4 one v4-only.
  EXPECT_EQ(labels(objs[0]), (std::vector<std::string>{idx, "hostports tcp . 8080", "hostports udp . 5353",
                                                       "hostip_hostports 10.1.1.1 . tcp . 8081", "masq 10.77.0.2",
                                                       "(network) subnets 10.77.0.0/24 . 10.77.0.0/24"}));
  EXPECT_EQ(objs[0].udp_host_ports, std::vector<std::uint16_t>{5353});
  EXPECT_EQ(objs[1].family, Family::Ip6);
  EXPECT_EQ(labels(objs[1]), (std::vector<std::string>{idx, "hostports tcp . 8080", "hostports udp . 5353",
                                                       "hostip_hostports fd01::1 . tcp . 8443", "masq fd77::2",
                                                       "(network) subnets fd77::/64 . fd77::/64"}));
  for (const auto& o : objs) {
    for (const auto& e : o.elements) {
      EXPECT_EQ(e.comment, attachment_comment(p.key)) << e.label;  // every element names its owner
      EXPECT_EQ(e.table, kTable);
      EXPECT_FALSE(e.verdict) << "no verdicts, no jumps: " << e.label;
      EXPECT_TRUE(e.key_end.empty()) << "per-attachment elements are in hash sets: " << e.label;
    }
    for (const auto& e : o.network_elements) EXPECT_EQ(e.comment, network_rule_comment(p.key.network)) << e.label;
  }
}

TEST(NftRuleset, ElementBytesAreNftsEncoding) {
  // Compared with `nft --debug=netlink` for the same elements (nft 1.0.6):
  //   hostports        element 00000006 0000901f : 02004d0a 00005000
  //   hostip_hostports element 0101010a 00000006 0000911f : 02004d0a 00005100
  //   subnets          element 00004d0a 00004d0a - ff004d0a ff004d0a   (10.77.0.0/24 . 10.77.0.0/24)
  const auto v4 = attachment_objects(plan())[0];
  auto find = [&](const std::string& label) {
    for (const auto* list : {&v4.elements, &v4.network_elements})
      for (const auto& e : *list)
        if (e.set + " " + e.label == label) return e;
    ADD_FAILURE() << label;
    return nftables::Element{};
  };
  auto e = find("hostports tcp . 8080");
  EXPECT_EQ(e.key, (Bytes{6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  EXPECT_EQ(e.data, (Bytes{10, 77, 0, 2, 0, 80, 0, 0}));
  EXPECT_TRUE(e.key_end.empty());
  e = find("hostip_hostports 10.1.1.1 . tcp . 8081");
  EXPECT_EQ(e.key, (Bytes{10, 1, 1, 1, 6, 0, 0, 0, 0x1f, 0x91, 0, 0}));
  EXPECT_EQ(e.data, (Bytes{10, 77, 0, 2, 0, 81, 0, 0}));
  e = find("subnets 10.77.0.0/24 . 10.77.0.0/24");
  EXPECT_EQ(e.key, (Bytes{10, 77, 0, 0, 10, 77, 0, 0}));
  EXPECT_EQ(e.key_end, (Bytes{10, 77, 0, 255, 10, 77, 0, 255}));
  e = find("masq 10.77.0.2");
  EXPECT_EQ(e.key, (Bytes{10, 77, 0, 2}));
  EXPECT_TRUE(e.data.empty());
  // The index: the hash's first 15 hex digits as an ifname (16 bytes, NUL-padded).
  const std::string h = attachment_hash(plan().key);
  Bytes idx(16, 0);
  std::copy_n(h.begin(), 15, idx.begin());
  EXPECT_EQ(v4.elements.front().key, idx);
}

TEST(NftRuleset, UdpHostPortsReadBackFromKeys) {
  for (const auto& o : attachment_objects(plan())) {
    std::vector<std::uint16_t> udp;
    for (const auto& e : o.elements)
      if (auto port = udp_host_port(o.family, e.set, e.key)) udp.push_back(*port);
    EXPECT_EQ(udp, o.udp_host_ports);
  }
  EXPECT_FALSE(udp_host_port(Family::Ip, kMasqSet, Bytes{17, 0, 0, 0, 0, 53, 0, 0}));
}

TEST(NftRuleset, OnlyWhatThePlanNeeds) {
  NatPlan p = plan();
  p.port_mappings.clear();
  p.container_ips.pop_back();
  auto objs = attachment_objects(p);
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(labels(objs[0]),
            (std::vector<std::string>{"attachments \"" + attachment_hash(p.key).substr(0, 15) + "\"", "masq 10.77.0.2",
                                      "(network) subnets 10.77.0.0/24 . 10.77.0.0/24"}));
  p.ip_masq = false;
  EXPECT_TRUE(attachment_objects(p).empty());
  p.port_mappings = {{8443, 443, net::L4Proto::Tcp, net::IpAddress::parse("fd01::1")}};  // v6 hostIP, v4 container
  EXPECT_TRUE(attachment_objects(p).empty());
}

TEST(NftRuleset, SkeletonPerFamily) {
  const auto v4 = skeleton(Family::Ip), v6 = skeleton(Family::Ip6), br = skeleton(Family::Bridge);
  EXPECT_EQ(skeleton_objects(Family::Ip), 5u + 3u);
  EXPECT_EQ(skeleton_objects(Family::Bridge), 3u + 1u);
  EXPECT_EQ(v4.rules.size(), v6.rules.size() + 1);  // IPv6 has no DNAT'ed-localhost masquerade
  EXPECT_EQ(v4.table.comment, "managed by tether");
  for (const auto* s : {&v4, &v6, &br})
    for (const auto& r : s->rules)
      for (const auto& st : r.statements) {
        const auto* v = std::get_if<nftables::VerdictStatement>(&st);
        EXPECT_FALSE(v && (v->verdict.kind == nftables::Verdict::Kind::Jump ||
                           v->verdict.kind == nftables::Verdict::Kind::Goto));
        EXPECT_FALSE(std::holds_alternative<nftables::VmapLookup>(st));
      }
  for (Family f : kAllFamilies)
    for (const auto& s : skeleton(f).sets) EXPECT_NO_THROW(nftables::set_key_info(s)) << s.name;
  EXPECT_EQ(set_names(Family::Bridge), (std::vector<std::string>{kSpoofcheckSet, kAllowedSet, kAttachmentsSet}));
}

TEST(NftRuleset, MacspoofElements) {
  NatPlan p;
  p.key = {"net1", "ctr-a", "eth0"};
  p.host_ifname = "veth1234";
  p.spoof_check_mac = net::Mac{0x02, 0x42, 0xac, 0x11, 0x00, 0x02};
  auto objs = attachment_objects(p);
  ASSERT_EQ(objs.size(), 1u);
  EXPECT_EQ(objs[0].family, Family::Bridge);
  EXPECT_EQ(labels(objs[0])[1], "spoofcheck \"veth1234\"");
  EXPECT_EQ(labels(objs[0])[2], "allowed \"veth1234\" . 02:42:ac:11:00:02");
  // nft --debug=netlink: element 68746576 00000031 00000000 00000000 000a4202 00000200  ("veth1" . 02:42:0a:00:00:02)
  EXPECT_EQ(objs[0].elements[2].key.size(), 24u);
  EXPECT_EQ(Bytes(objs[0].elements[2].key.begin() + 16, objs[0].elements[2].key.end()),
            (Bytes{2, 0x42, 0xac, 0x11, 0, 2, 0, 0}));
  for (const char* bad : {"", "0123456789abcdef"}) {
    p.host_ifname = bad;
    try {
      attachment_objects(p);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kInvalidConfig) << bad;
      EXPECT_NE(std::string(e.what()).find("02:42:ac:11:00:02"), std::string::npos) << e.what();
    }
  }
}

TEST(NftRuleset, ConflictTextsNameWhatClashed) {
  EXPECT_EQ(conflict_text(kHostportsMap, "udp . 5353"), "host port udp . 5353 is already published");
  EXPECT_EQ(conflict_text(kMasqSet, "10.77.0.2"), "container address 10.77.0.2 is already masqueraded");
  EXPECT_EQ(conflict_text(kSubnetsSet, "10.77.0.0/16 . 10.77.0.0/16"),
            "subnet 10.77.0.0/16 overlaps the subnet of another network");
  EXPECT_EQ(conflict_text(kSpoofcheckSet, "\"tva\""), "interface \"tva\" is already MAC-checked");
}

}  // namespace
}  // namespace tether::firewall::nft
