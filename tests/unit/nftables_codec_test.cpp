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

TEST(NftCompile, DnatMapSetLookupAndCtStatusLikeNft) {
  // nft: fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @m ->
  //   payload load 4b @ network header + 16 => reg 1; meta load l4proto => reg 9;
  //   payload load 2b @ transport header + 2 => reg 10; lookup reg 1 set m dreg 1;
  //   nat dnat ip addr_min reg 1 proto_min reg 9   (no flags attribute)
  auto e = compile(Family::Ip, {DnatMap{{Field::DAddr, Field::L4Proto, Field::ThDport}, "m"}});
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[1].dreg, 9u);
  EXPECT_EQ(e[2].dreg, 10u);
  EXPECT_EQ(e[3].kind, K::Lookup);
  EXPECT_EQ(e[3].dreg, 1u);
  EXPECT_EQ(e[3].flags, 0u);
  EXPECT_EQ(e[4].kind, K::Nat);
  EXPECT_EQ(e[4].sreg, 1u);
  EXPECT_EQ(e[4].sreg_proto, 9u);
  EXPECT_EQ(e[4].flags, 0u);
  EXPECT_EQ(e[4].family, 2u);
  // ip6: meta load l4proto => reg 1; th dport => reg 9; lookup dreg 1; nat dnat ip6 addr_min reg 1 proto_min reg 2
  e = compile(Family::Ip6, {DnatMap{{Field::L4Proto, Field::ThDport}, "m"}});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[1].dreg, 9u);
  EXPECT_EQ(e[3].sreg_proto, 2u);
  EXPECT_EQ(e[3].family, 10u);
  // ip saddr . ip daddr @s -> reg 1, reg 9; lookup reg 1 set s (no dreg, no flags)
  e = compile(Family::Ip, {SetLookup{{Field::SAddr, Field::DAddr}, "s", false}});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1].dreg, 9u);
  EXPECT_EQ(e[2].dreg, kNoReg);
  EXPECT_EQ(e[2].flags, 0u);
  // bridge: iifname . ether saddr != @s -> meta iifname => reg 1; payload 6b @ link + 6 => reg 2; lookup flags 0x1
  e = compile(Family::Bridge, {SetLookup{{Field::IifName, Field::EtherSAddr}, "s", true}});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[1].dreg, 2u);
  EXPECT_EQ(e[1].offset, 6u);
  EXPECT_EQ(e[2].flags, 1u);  // NFT_LOOKUP_F_INV
  // ct status dnat -> ct load status => reg 1; bitwise (& 0x20) ^ 0; cmp neq 0
  e = compile(Family::Ip, {M(Field::CtStatus, 0x20u)});
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].kind, K::CtLoad);
  EXPECT_EQ(e[1].data, (Bytes{0x20, 0, 0, 0}));
  EXPECT_EQ(e[2].key, 1u);  // NFT_CMP_NEQ
  EXPECT_EQ(e[2].data, (Bytes{0, 0, 0, 0}));
  EXPECT_THROW(compile(Family::Ip, {M(Field::CtStatus, 0x20u, true)}), Error);
  EXPECT_THROW(compile(Family::Ip, {SetLookup{{Field::CtStatus}, "s", false}}), Error);
  EXPECT_THROW(compile(Family::Bridge, {DnatMap{{Field::L4Proto}, "m"}}), Error);
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
      {M(Field::FibDaddrType, 2u), DnatMap{{Field::DAddr, Field::L4Proto, Field::ThDport}, "hostip_hostports"}},
      {M(Field::FibDaddrType, 2u), DnatMap{{Field::L4Proto, Field::ThDport}, "hostports"}},
      {M(Field::CtStatus, 0x20u), SetLookup{{Field::SAddr, Field::DAddr}, "hairpin", false}, Masquerade{}},
      {SetLookup{{Field::SAddr, Field::DAddr}, "local", false}, VerdictStatement{Verdict{Verdict::Kind::Return, {}}}},
      {SetLookup{{Field::SAddr}, "masq", false}, Masquerade{}},
  };
  for (const auto& r : rules) {
    const auto back = decompile(Family::Ip, compile(Family::Ip, r));
    ASSERT_TRUE(back) << to_string(r);
    EXPECT_EQ(*back, r) << to_string(r) << " came back as " << to_string(*back);
  }
  const std::vector<Statement> v6 = {M(Field::SAddr, P("fd77::2")), M(Field::DAddr, P("fd77::/60"), true),
                                     Masquerade{}};
  EXPECT_EQ(decompile(Family::Ip6, compile(Family::Ip6, v6)), v6);
  const std::vector<Statement> v6map = {DnatMap{{Field::DAddr, Field::L4Proto, Field::ThDport}, "m"}};
  EXPECT_EQ(decompile(Family::Ip6, compile(Family::Ip6, v6map)), v6map);
  // What the kernel reports back: the flags it implies (MAP_IPS is dropped when read).
  auto dumped = compile(Family::Ip, {DnatMap{{Field::L4Proto, Field::ThDport}, "m"}});
  dumped.back().flags = 2;  // NF_NAT_RANGE_PROTO_SPECIFIED
  EXPECT_TRUE(decompile(Family::Ip, dumped));
  const std::vector<Statement> spoof = {SetLookup{{Field::IifName}, "spoofcheck", false},
                                        SetLookup{{Field::IifName, Field::EtherSAddr}, "allowed", true},
                                        VerdictStatement{Verdict{Verdict::Kind::Drop, {}}}};
  EXPECT_EQ(decompile(Family::Bridge, compile(Family::Bridge, spoof)), spoof);
  const std::vector<Statement> br = {M(Field::IifName, std::string("veth1")),
                                     M(Field::EtherSAddr, MacAddress{2, 0x42, 0, 0, 0, 1}, true),
                                     VerdictStatement{Verdict{Verdict::Kind::Drop, {}}}};
  EXPECT_EQ(decompile(Family::Bridge, compile(Family::Bridge, br)), br);
}

TEST(NftDecompile, RejectsWhatTetherDoesNotWrite) {
  auto e = compile(Family::Ip, {M(Field::L4Proto, 6u), Masquerade{}});
  e.insert(e.begin(), Expr{});  // an unknown expression (e.g. a quota)
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

Set S(std::vector<KeyType> key, bool vmap, std::vector<KeyType> data = {}, bool interval = false) {
  Set s;
  s.name = "s";
  s.key = std::move(key);
  s.verdict_map = vmap;
  s.data = std::move(data);
  s.interval = interval;
  return s;
}

TEST(NftKey, VerdictMapTypesAndUserdataMatchNft) {
  // Captured from nft 1.0.6 (`nft --debug=mnl`) for the same map declarations.
  auto k = set_key_info(S({KeyType::InetProto, KeyType::InetService}, true));
  EXPECT_EQ(k.type, 0x30du);
  EXPECT_EQ(k.len, 8u);
  EXPECT_EQ(k.flags, 0x8u);  // NFT_SET_MAP
  const Bytes concat_udata = {0x00, 0x04, 0,    0, 0, 0, 0x01, 0x04, 0,    0,    0, 0, 0x03, 0x08,
                              0x00, 0x04, 0x0d, 0, 0, 0, 0x01, 0x00, 0x06, 0x04, 0, 0, 0,    0};
  EXPECT_EQ(k.udata, concat_udata);
  k = set_key_info(S({KeyType::Ipv4Addr, KeyType::InetProto, KeyType::InetService}, true));
  EXPECT_EQ(k.type, 0x730du);
  EXPECT_EQ(k.len, 12u);
  EXPECT_EQ(k.udata, concat_udata);
  k = set_key_info(S({KeyType::Ipv6Addr, KeyType::InetProto, KeyType::InetService}, true));
  EXPECT_EQ(k.type, 0x830du);
  EXPECT_EQ(k.len, 24u);
  k = set_key_info(S({KeyType::Ipv4Addr}, true));
  EXPECT_EQ(k.type, 7u);
  EXPECT_EQ(k.len, 4u);
  EXPECT_EQ(k.udata, (Bytes{0x00, 0x04, 2, 0, 0, 0, 0x01, 0x04, 0, 0, 0, 0, 0x06, 0x04, 0, 0, 0, 0}));
}

TEST(NftKey, DataMapsSetsAndIntervalsMatchNft) {
  // Read back (libnftnl dump) from sets nft 1.0.6 created from the declarations in the comments.
  // map hostports { type inet_proto . inet_service : ipv4_addr . inet_service }
  auto k = set_key_info(
      S({KeyType::InetProto, KeyType::InetService}, false, {KeyType::Ipv4Addr, KeyType::InetService}));
  EXPECT_EQ(k.flags, 0x8u);
  EXPECT_EQ(k.type, 0x30du);
  EXPECT_EQ(k.data_type, 0x1cdu);
  EXPECT_EQ(k.data_len, 8u);
  EXPECT_TRUE(k.field_len.empty());
  const Bytes data_map_udata = {0x00, 0x04, 0,    0,    0,    0,    0x01, 0x04, 0,    0,    0,    0,    0x03,
                                0x08, 0x00, 0x04, 0x0d, 0,    0,    0,    0x01, 0x00, 0x04, 0x08, 0x00, 0x04,
                                0x0d, 0,    0,    0,    0x01, 0x00, 0x06, 0x04, 0,    0,    0,    0};
  EXPECT_EQ(k.udata, data_map_udata);
  // map hostip_hostports { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service }
  k = set_key_info(S({KeyType::Ipv6Addr, KeyType::InetProto, KeyType::InetService}, false,
                     {KeyType::Ipv6Addr, KeyType::InetService}));
  EXPECT_EQ(k.type, 0x830du);
  EXPECT_EQ(k.len, 24u);
  EXPECT_EQ(k.data_type, 0x20du);
  EXPECT_EQ(k.data_len, 20u);
  EXPECT_EQ(k.udata, data_map_udata);
  // set masq { type ipv4_addr }; set attachments { type ifname }
  k = set_key_info(S({KeyType::Ipv4Addr}, false));
  EXPECT_EQ(k.flags, 0u);
  EXPECT_EQ(k.udata, (Bytes{0x00, 0x04, 2, 0, 0, 0}));
  k = set_key_info(S({KeyType::IfName}, false));
  EXPECT_EQ(k.type, 0x29u);
  EXPECT_EQ(k.len, 16u);
  EXPECT_EQ(k.udata, (Bytes{0x00, 0x04, 1, 0, 0, 0}));
  // set local { type ipv4_addr . ipv4_addr; flags interval }
  const Bytes concat_set_udata = {0x00, 0x04, 0, 0, 0, 0, 0x03, 0x08, 0x00, 0x04, 0x0d, 0, 0, 0, 0x01, 0x00};
  k = set_key_info(S({KeyType::Ipv4Addr, KeyType::Ipv4Addr}, false, {}, true));
  EXPECT_EQ(k.flags, 0x84u);  // NFT_SET_INTERVAL | NFT_SET_CONCAT
  EXPECT_EQ(k.type, 0x1c7u);
  EXPECT_EQ(k.len, 8u);
  EXPECT_EQ(k.field_len, (std::vector<std::uint8_t>{4, 4}));
  EXPECT_EQ(k.udata, concat_set_udata);
  k = set_key_info(S({KeyType::Ipv6Addr, KeyType::Ipv6Addr}, false, {}, true));
  EXPECT_EQ(k.type, 0x208u);
  EXPECT_EQ(k.len, 32u);
  EXPECT_EQ(k.field_len, (std::vector<std::uint8_t>{16, 16}));
  // set allowed { type ifname . ether_addr }
  k = set_key_info(S({KeyType::IfName, KeyType::EtherAddr}, false));
  EXPECT_EQ(k.flags, 0u);
  EXPECT_EQ(k.type, 0xa49u);
  EXPECT_EQ(k.len, 24u);
  EXPECT_EQ(k.udata, concat_set_udata);
  // Layouts nft writes differently, which tether does not reproduce: refused.
  EXPECT_THROW(set_key_info(S({KeyType::Ipv4Addr}, false, {}, true)), Error);
  EXPECT_THROW(set_key_info(S({KeyType::Ipv4Addr}, false, {KeyType::Ipv4Addr})), Error);
  EXPECT_THROW(set_key_info(S({KeyType::Ipv4Addr}, true, {KeyType::Ipv4Addr, KeyType::InetService})), Error);
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
