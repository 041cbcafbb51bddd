// lib/nftables' pure parts: statements -> expressions (checked against what `nft --debug=netlink`
// prints for the same rule text on nft 1.0.6), expressions -> statements, set keys and their
// userdata (byte-compared with what nft sends, captured with `nft --debug=mnl`), comments.
#include <gtest/gtest.h>

#include <string>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/key.hpp"
#include "lib/nftables/udata.hpp"
#include "lib/util/error.hpp"

namespace tether::nftables {
namespace {

using K = Expr::Kind;

net::IpPrefix P(const char* s) { return *net::IpPrefix::parse_address_or_prefix(s); }
Match M(Field f, MatchValue v, bool neg = false) { return Match{f, neg, std::move(v), 0xffffffff}; }

TEST(NftCompile, PrefixLoadsOnlyWholeBytesLikeNft) {
  // nft: ip saddr 10.0.0.0/24 -> [ payload load 3b @ network header + 12 => reg 1 ] [ cmp eq reg 1 0x0000000a ]
  auto e = compile(Family::Ip, {M(Field::SAddr, P("10.0.0.0/24"))});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].kind, K::Payload);
  EXPECT_EQ(e[0].offset, 12u);
  EXPECT_EQ(e[0].len, 3u);
  EXPECT_EQ(e[0].dreg, 1u);
  EXPECT_EQ(e[1].kind, K::Cmp);
  EXPECT_EQ(e[1].data, (Bytes{10, 0, 0}));
  // ip daddr 224.0.0.0/4 -> 4b load, bitwise & 0xf0, cmp 0xe0
  e = compile(Family::Ip, {M(Field::DAddr, P("224.0.0.0/4"))});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].len, 4u);
  EXPECT_EQ(e[0].offset, 16u);
  EXPECT_EQ(e[1].kind, K::Bitwise);
  EXPECT_EQ(e[1].data, (Bytes{0xf0, 0, 0, 0}));
  EXPECT_EQ(e[1].xor_data, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(e[2].data, (Bytes{0xe0, 0, 0, 0}));
  // ip6 daddr fd77::/64 -> 8b load @ +24; a host address loads all 16 bytes
  e = compile(Family::Ip6, {M(Field::DAddr, P("fd77::/64"), true)});
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0].offset, 24u);
  EXPECT_EQ(e[0].len, 8u);
  EXPECT_EQ(e[1].key, 1u);  // NFT_CMP_NEQ
  e = compile(Family::Ip6, {M(Field::SAddr, P("fd77::2"))});
  EXPECT_EQ(e[0].offset, 8u);
  EXPECT_EQ(e[0].len, 16u);
}

TEST(NftCompile, ConcatenatedLookupUsesNftsRegisters) {
  // ip:  payload => reg 1; meta l4proto => reg 9; th dport => reg 10; lookup reg 1 dreg 0
  auto e = compile(Family::Ip, {VmapLookup{{Field::DAddr, Field::L4Proto, Field::ThDport}, "m"}});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0].dreg, 1u);
  EXPECT_EQ(e[1].dreg, 9u);
  EXPECT_EQ(e[2].dreg, 10u);
  EXPECT_EQ(e[3].kind, K::Lookup);
  EXPECT_EQ(e[3].sreg, 1u);
  EXPECT_EQ(e[3].dreg, 0u);
  EXPECT_EQ(e[3].name, "m");
  // ip6: 16-byte address => reg 1; l4proto => reg 2; dport => reg 13
  e = compile(Family::Ip6, {VmapLookup{{Field::DAddr, Field::L4Proto, Field::ThDport}, "m"}});
  EXPECT_EQ(e[0].dreg, 1u);
  EXPECT_EQ(e[1].dreg, 2u);
  EXPECT_EQ(e[2].dreg, 13u);
}

TEST(NftCompile, MarkDnatAndVerdicts) {
  // meta mark set meta mark | 0x2000 -> load; bitwise (& 0xffffdfff) ^ 0x2000; meta set mark
  auto e = compile(Family::Ip, {SetMarkBits{0x2000}});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1].data, (Bytes{0xff, 0xdf, 0xff, 0xff}));
  EXPECT_EQ(e[1].xor_data, (Bytes{0x00, 0x20, 0x00, 0x00}));
  EXPECT_EQ(e[2].kind, K::MetaSet);
  // dnat to 10.0.0.5:80 -> immediate reg 1 0x0500000a; immediate reg 2 0x00005000; nat dnat ip flags 0x2
  e = compile(Family::Ip, {DnatTo{*net::IpAddress::parse("10.0.0.5"), 80}});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].data, (Bytes{10, 0, 0, 5}));
  EXPECT_EQ(e[1].dreg, 2u);
  EXPECT_EQ(e[1].data, (Bytes{0, 80}));
  EXPECT_EQ(e[2].family, 2u);  // NFPROTO_IPV4
  EXPECT_EQ(e[2].flags, 2u);   // NF_NAT_RANGE_PROTO_SPECIFIED
  EXPECT_THROW(compile(Family::Ip, {DnatTo{*net::IpAddress::parse("fd00::1"), 80}}), Error);
  EXPECT_THROW(compile(Family::Ip, {M(Field::EtherSAddr, MacAddress{})}), Error);
  EXPECT_THROW(compile(Family::Ip, {VerdictStatement{Verdict{Verdict::Kind::Goto, ""}}}), Error);
  e = compile(Family::Ip, {VerdictStatement{Verdict{Verdict::Kind::Goto, "c"}}});
  EXPECT_TRUE(e[0].verdict);
  EXPECT_EQ(static_cast<int>(e[0].key), -4);  // NFT_GOTO
}

TEST(NftCompile, RoundTripsThroughDecompile) {
  const std::vector<std::vector<Statement>> rules = {
      {M(Field::FibDaddrType, 2u), VmapLookup{{Field::DAddr, Field::L4Proto, Field::ThDport}, "hostip_hostports"}},
      {M(Field::FibDaddrType, 2u), VmapLookup{{Field::L4Proto, Field::ThDport}, "hostports"}},
      {M(Field::OifName, std::string("lo"), true), M(Field::SAddr, P("127.0.0.0/8")), Masquerade{}},
      {M(Field::OifName, std::string("lo"), true), Match{Field::Mark, false, 0x2000u, 0x2000}, Masquerade{}},
      {M(Field::DAddr, P("224.0.0.0/4")), VerdictStatement{Verdict{Verdict::Kind::Return, {}}}},
      {VmapLookup{{Field::SAddr}, "masq"}},
      {M(Field::SAddr, P("10.0.0.0/24")), SetMarkBits{0x2000}},
      {M(Field::DAddr, P("10.1.1.1")), M(Field::L4Proto, 6u), M(Field::ThDport, 8080u),
       DnatTo{*net::IpAddress::parse("10.0.0.5"), 80}},
      {M(Field::SAddr, P("10.0.0.5")), M(Field::DAddr, P("10.0.0.0/23"), true), Masquerade{}},
  };
  for (const auto& r : rules) {
    const auto back = decompile(Family::Ip, compile(Family::Ip, r));
    ASSERT_TRUE(back) << to_string(r);
    EXPECT_EQ(*back, r) << to_string(r) << " came back as " << to_string(*back);
  }
  const std::vector<Statement> v6 = {M(Field::SAddr, P("fd77::2")), M(Field::DAddr, P("fd77::/60"), true), Masquerade{}};
  EXPECT_EQ(decompile(Family::Ip6, compile(Family::Ip6, v6)), v6);
  const std::vector<Statement> br = {M(Field::IifName, std::string("veth1")), M(Field::EtherSAddr, MacAddress{2, 0x42, 0, 0, 0, 1}, true),
                                     VerdictStatement{Verdict{Verdict::Kind::Drop, {}}}};
  EXPECT_EQ(decompile(Family::Bridge, compile(Family::Bridge, br)), br);
}

TEST(NftDecompile, RejectsWhatTetherDoesNotWrite) {
  auto e = compile(Family::Ip, {M(Field::L4Proto, 6u), Masquerade{}});
  e.insert(e.begin(), Expr{});  // an unknown expression (e.g. a counter)
  EXPECT_FALSE(decompile(Family::Ip, e));
  auto cut = compile(Family::Ip, {M(Field::L4Proto, 6u)});
  cut.pop_back();  // a load without its cmp
  EXPECT_FALSE(decompile(Family::Ip, cut));
  auto odd = compile(Family::Ip, {M(Field::SAddr, P("10.0.0.0/24"))});
  odd[0].offset = 13;  // not an address field
  EXPECT_FALSE(decompile(Family::Ip, odd));
}

TEST(NftKey, ConcatenationsArePaddedTo32BitSlots) {
  // nft --debug=netlink: element 00000006 0000901f  (tcp . 8080)
  EXPECT_EQ(KeyBuilder().proto(6).port(8080).bytes(), (Bytes{6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  EXPECT_EQ(KeyBuilder().address(*net::IpAddress::parse("10.1.1.1")).proto(6).port(8080).bytes(),
            (Bytes{10, 1, 1, 1, 6, 0, 0, 0, 0x1f, 0x90, 0, 0}));
  EXPECT_EQ(KeyBuilder(false).address(*net::IpAddress::parse("10.0.0.5")).bytes(), (Bytes{10, 0, 0, 5}));
  EXPECT_EQ(KeyBuilder(false).ifname("veth0").bytes().size(), 16u);
  EXPECT_THROW(KeyBuilder().ifname("0123456789abcdef"), Error);
}

TEST(NftKey, SetTypesAndUserdataMatchNft) {
  // Captured from nft 1.0.6 (`nft --debug=mnl`) for the same map declarations.
  auto k = set_key_info({KeyType::InetProto, KeyType::InetService}, true);
  EXPECT_EQ(k.type, 0x30du);
  EXPECT_EQ(k.len, 8u);
  const Bytes concat_udata = {0x00, 0x04, 0, 0, 0, 0, 0x01, 0x04, 0, 0, 0, 0, 0x03, 0x08, 0x00, 0x04,
                              0x0d, 0, 0, 0, 0x01, 0x00, 0x06, 0x04, 0, 0, 0, 0};
  EXPECT_EQ(k.udata, concat_udata);
  k = set_key_info({KeyType::Ipv4Addr, KeyType::InetProto, KeyType::InetService}, true);
  EXPECT_EQ(k.type, 0x730du);
  EXPECT_EQ(k.len, 12u);
  EXPECT_EQ(k.udata, concat_udata);
  k = set_key_info({KeyType::Ipv6Addr, KeyType::InetProto, KeyType::InetService}, true);
  EXPECT_EQ(k.type, 0x830du);
  EXPECT_EQ(k.len, 24u);
  k = set_key_info({KeyType::Ipv4Addr}, true);
  EXPECT_EQ(k.type, 7u);
  EXPECT_EQ(k.len, 4u);
  EXPECT_EQ(k.udata, (Bytes{0x00, 0x04, 2, 0, 0, 0, 0x01, 0x04, 0, 0, 0, 0, 0x06, 0x04, 0, 0, 0, 0}));
}

TEST(NftComment, ClampedTo128BytesOnACharacterBoundary) {
  EXPECT_EQ(comment_udata("cc"), (Bytes{0x00, 0x03, 'c', 'c', 0}));
  EXPECT_EQ(comment_of(comment_udata("hello")), "hello");
  EXPECT_EQ(clamp_comment(std::string(300, 'x')).size(), kMaxComment);
  // 127 ASCII bytes + a 2-byte character straddling the limit: the character goes entirely.
  const std::string s = std::string(127, 'a') + "\xc3\xa9" + "tail";
  EXPECT_EQ(clamp_comment(s), std::string(127, 'a'));
  EXPECT_EQ(clamp_comment(std::string(126, 'a') + "\xc3\xa9"), std::string(126, 'a') + "\xc3\xa9");
  EXPECT_FALSE(comment_of(Bytes{0x00, 0x09, 'x'}));  // truncated TLV
}

}  // namespace
}  // namespace tether::nftables
