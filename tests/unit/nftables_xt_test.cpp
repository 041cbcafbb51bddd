// lib/nftables' x_tables compat matches, counter, `ct state` and how they compile, checked
// against what the tools send for the same rule text (captured with strace from iptables-nft
// 1.8.9 and with `nft --debug=netlink` from nft 1.0.6 in a throwaway netns):
//   iptables-nft -A C -d 10.9.0.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -m comment
//     --comment hello -j ACCEPT
//   -> [payload load 3b @ network header + 16 => reg 1] [cmp eq reg 1 0x0000090a]
//      [match name conntrack rev 3 info: 168 bytes, byte 146 = 0x01 (match_flags), 150 = 0x06 (state_mask)]
//      [match name comment rev 0 info: 256 bytes, "hello" NUL-padded]
//      [counter packets 0 bytes 0] [immediate reg 0 accept]
//   --ctstate DNAT: byte 150 = 0x80
//   nft add rule ... ip daddr 10.9.0.0/24 ct state established,related accept
//   -> [payload ...] [cmp ...] [ct load state => reg 1] [bitwise reg 1 = (reg 1 & 0x00000006) ^ 0]
//      [cmp neq reg 1 0x00000000] [immediate reg 0 accept]
#include <gtest/gtest.h>

#include <string>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/xt_compat.hpp"
#include "lib/util/error.hpp"

namespace tether::nftables {
namespace {

using K = Expr::Kind;

net::IpPrefix P(const char* s) { return *net::IpPrefix::parse_address_or_prefix(s); }

Bytes conntrack_blob(std::uint8_t state_low, std::uint8_t state_high = 0) {
  Bytes b(168, 0);
  b[146] = 1;  // match_flags = XT_CONNTRACK_STATE
  b[150] = state_low;
  b[151] = state_high;
  return b;
}

TEST(NftXt, ConntrackStateIsIptablesNftsBlob) {
  const XtMatch m = xt::conntrack_state(xt::kCtRelated | xt::kCtEstablished);
  EXPECT_EQ(m.name, "conntrack");
  EXPECT_EQ(m.rev, 3u);
  EXPECT_EQ(m.info, conntrack_blob(0x06));
  EXPECT_EQ(xt::conntrack_state(xt::kCtDnat).info, conntrack_blob(0x80));
  EXPECT_EQ(xt::conntrack_state(xt::kCtUntracked).info, conntrack_blob(0x00, 0x01));
  EXPECT_EQ(xt::conntrack_state_of(m), xt::kCtRelated | xt::kCtEstablished);
  EXPECT_EQ(xt::describe(m), "-m conntrack --ctstate RELATED,ESTABLISHED");
  EXPECT_EQ(xt::describe(xt::conntrack_state(xt::kCtDnat)), "-m conntrack --ctstate DNAT");
  EXPECT_THROW(xt::conntrack_state(0), Error);
  EXPECT_THROW(xt::conntrack_state(1 << 4), Error);
  // Anything more than a state test is not read as one: inverted, with another flag, cut short.
  XtMatch inverted = m;
  inverted.info[148] = 1;  // invert_flags = XT_CONNTRACK_STATE
  EXPECT_FALSE(xt::conntrack_state_of(inverted));
  XtMatch cut = m;
  cut.info.resize(164);
  EXPECT_FALSE(xt::conntrack_state_of(cut));
  XtMatch rev2 = m;
  rev2.rev = 2;
  EXPECT_FALSE(xt::conntrack_state_of(rev2));
  EXPECT_EQ(xt::describe(rev2), "-m conntrack (rev 2)");
}

TEST(NftXt, CommentIsA256ByteStringCutLikeIptables) {
  const XtMatch c = xt::comment("hello");
  EXPECT_EQ(c.name, "comment");
  EXPECT_EQ(c.rev, 0u);
  Bytes want(256, 0);
  for (std::size_t i = 0; i < 5; ++i) want[i] = static_cast<std::uint8_t>("hello"[i]);
  EXPECT_EQ(c.info, want);
  EXPECT_EQ(xt::comment_of(c), "hello");
  EXPECT_EQ(xt::describe(c), "-m comment --comment \"hello\"");
  EXPECT_EQ(xt::comment_of(xt::comment(std::string(300, 'x'))), std::string(255, 'x'));
  EXPECT_FALSE(xt::comment_of(xt::conntrack_state(xt::kCtDnat)));
  EXPECT_FALSE(xt::conntrack_state_of(c));
  const std::vector<Statement> rule = {Match{Field::SAddr, false, P("10.0.0.0/8"), 0xffffffff}, c, Counter{}};
  EXPECT_EQ(xt::comment_of(rule), "hello");
  EXPECT_FALSE(xt::comment_of(std::vector<Statement>{Counter{}}));
}

TEST(NftXt, CompilesInIptablesNftsOrder) {
  const XtMatch ct = xt::conntrack_state(xt::kCtRelated | xt::kCtEstablished);
  const std::vector<Statement> rule = {Match{Field::DAddr, false, P("10.9.0.0/24"), 0xffffffff}, ct,
                                       xt::comment("hello"), Counter{},
                                       VerdictStatement{Verdict{Verdict::Kind::Accept, {}}}};
  const auto e = compile(Family::Ip, rule);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].kind, K::Payload);
  EXPECT_EQ(e[0].offset, 16u);
  EXPECT_EQ(e[0].len, 3u);
  EXPECT_EQ(e[1].data, (Bytes{10, 9, 0}));
  EXPECT_EQ(e[2].kind, K::XtMatch);
  EXPECT_EQ(e[2].name, "conntrack");
  EXPECT_EQ(e[2].key, 3u);
  EXPECT_EQ(e[2].data, conntrack_blob(0x06));
  EXPECT_EQ(e[3].kind, K::XtMatch);
  EXPECT_EQ(e[3].name, "comment");
  EXPECT_EQ(e[4].kind, K::Counter);
  EXPECT_EQ(e[5].kind, K::Immediate);
  EXPECT_TRUE(e[5].verdict);
  EXPECT_EQ(decompile(Family::Ip, e), rule);
  // The jump iptables-nft writes for -m comment --comment C -j TETHER-FORWARD.
  const std::vector<Statement> jump = {xt::comment("tether:shared forward"), Counter{},
                                       VerdictStatement{Verdict{Verdict::Kind::Jump, "TETHER-FORWARD"}}};
  const auto j = compile(Family::Ip6, jump);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2].name, "TETHER-FORWARD");
  EXPECT_EQ(decompile(Family::Ip6, j), jump);
  EXPECT_THROW(compile(Family::Ip, {XtMatch{"", 0, {1}}}), Error);
  EXPECT_THROW(compile(Family::Ip, {XtMatch{"comment", 0, {}}}), Error);
}

TEST(NftXt, CtStateCompilesLikeNft) {
  const std::vector<Statement> rule = {Match{Field::DAddr, false, P("10.9.0.0/24"), 0xffffffff},
                                       Match{Field::CtState, false, 6u, 0xffffffff},
                                       VerdictStatement{Verdict{Verdict::Kind::Accept, {}}}};
  const auto e = compile(Family::Ip, rule);
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[2].kind, K::CtLoad);
  EXPECT_EQ(e[2].key, 0u);  // NFT_CT_STATE
  EXPECT_EQ(e[2].dreg, 1u);
  EXPECT_EQ(e[3].kind, K::Bitwise);
  EXPECT_EQ(e[3].data, (Bytes{6, 0, 0, 0}));
  EXPECT_EQ(e[3].xor_data, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(e[4].kind, K::Cmp);
  EXPECT_EQ(e[4].key, 1u);  // NFT_CMP_NEQ
  EXPECT_EQ(e[4].data, (Bytes{0, 0, 0, 0}));
  EXPECT_EQ(decompile(Family::Ip, e), rule);
  EXPECT_EQ(to_string(rule), "ip daddr 10.9.0.0/24 ct state established,related accept");
  EXPECT_THROW(compile(Family::Ip, {Match{Field::CtState, true, 6u, 0xffffffff}}), Error);
  EXPECT_THROW(compile(Family::Ip, {SetLookup{{Field::CtState}, "s", false}}), Error);
  // ct status and ct state are told apart by the ct key.
  auto status = e;
  status[2].key = 2;  // NFT_CT_STATUS (1 is NFT_CT_DIRECTION)
  const auto back = decompile(Family::Ip, status);
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<Match>((*back)[1]).field, Field::CtStatus);
}

}  // namespace
}  // namespace tether::nftables
