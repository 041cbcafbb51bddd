// Byte layouts of the rules tether hands to libiptc. Offsets and sizes are the ones the iptables
// 1.8.9 CLI produces; the integration tests check the same bytes against `iptables-legacy -C`.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <cstring>
#include <string>

#include "lib/iptables/rule_parse.hpp"
#include "lib/iptables/rule_spec.hpp"
#include "lib/util/error.hpp"

namespace tether::iptables {
namespace {

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }
net::IpPrefix pfx(const char* s) { return *net::IpPrefix::parse(s); }

const xt_entry_match* match_at(const EntryBuffer& b, std::size_t off) { return b.at<xt_entry_match>(off); }

std::uint16_t u16_at(const EntryBuffer& b, std::size_t off) {
  std::uint16_t v;
  std::memcpy(&v, b.data() + off, 2);
  return v;
}

RuleSpec tcp_dnat_v4() {
  RuleSpec s;
  s.proto = Proto::Tcp;
  s.dport = 8080;
  s.comment = "tether:abc";
  s.target = Dnat{ip("10.1.2.3"), 80};
  return s;
}

TEST(RuleBuilder, TcpDnatV4Layout) {
  const EntryBuffer b = build_entry(tcp_dnat_v4());
  const auto* e = b.at<ipt_entry>(0);
  ASSERT_EQ(sizeof(ipt_entry), 112u);
  EXPECT_EQ(e->ip.proto, IPPROTO_TCP);
  EXPECT_EQ(e->target_offset, 112 + 48 + 288);
  EXPECT_EQ(e->next_offset, 112 + 48 + 288 + 80);
  EXPECT_EQ(b.size(), 528u);

  const auto* tcp = match_at(b, 112);
  EXPECT_EQ(tcp->u.user.match_size, 48);
  EXPECT_STREQ(tcp->u.user.name, "tcp");
  EXPECT_EQ(tcp->u.user.revision, 0);
  EXPECT_EQ(u16_at(b, 112 + 32), 0);       // spts[0]
  EXPECT_EQ(u16_at(b, 112 + 34), 0xffff);  // spts[1]: {0,0} would match source port 0 only
  EXPECT_EQ(u16_at(b, 112 + 36), 8080);    // dpts in host order
  EXPECT_EQ(u16_at(b, 112 + 38), 8080);

  const auto* comment = match_at(b, 160);
  EXPECT_EQ(comment->u.user.match_size, 288);
  EXPECT_STREQ(comment->u.user.name, "comment");
  EXPECT_STREQ(reinterpret_cast<const char*>(comment->data), "tether:abc");

  const auto* t = b.at<xt_entry_target>(448);
  EXPECT_EQ(t->u.user.target_size, 80);
  EXPECT_STREQ(t->u.user.name, "DNAT");
  EXPECT_EQ(t->u.user.revision, 2);
  const auto* r = reinterpret_cast<const nf_nat_range2*>(t->data);
  EXPECT_EQ(r->flags, NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED);
  EXPECT_EQ(r->min_addr.ip, inet_addr("10.1.2.3"));
  EXPECT_EQ(r->max_addr.ip, inet_addr("10.1.2.3"));
  // Network order: bytes 0x00 0x50 for port 80.
  const auto* port = reinterpret_cast<const std::uint8_t*>(&r->min_proto.all);
  EXPECT_EQ(port[0], 0x00);
  EXPECT_EQ(port[1], 0x50);
  EXPECT_EQ(r->max_proto.all, htons(80));
  EXPECT_EQ(r->base_proto.all, 0);
}

TEST(RuleBuilder, BuildIsDeterministicIncludingPadding) {
  const EntryBuffer a = build_entry(tcp_dnat_v4());
  const EntryBuffer b = build_entry(tcp_dnat_v4());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0);
  // Comment padding after the text is zero (check/delete compare every byte).
  for (std::size_t i = 160 + 32 + 10; i < 160 + 288; ++i) ASSERT_EQ(a.data()[i], 0) << i;
}

TEST(RuleBuilder, UdpDnatV6SetsProtoFlagAndBracketlessAddress) {
  RuleSpec s;
  s.family = net::Family::V6;
  s.dst = AddrMatch{pfx("fd00::1/128")};
  s.proto = Proto::Udp;
  s.dport = 53;
  s.comment = "c";
  s.target = Dnat{ip("fd00::3"), 5353};
  const EntryBuffer b = build_entry(s);
  const auto* e = b.at<ip6t_entry>(0);
  ASSERT_EQ(sizeof(ip6t_entry), 168u);
  EXPECT_EQ(e->ipv6.proto, IPPROTO_UDP);
  EXPECT_EQ(e->ipv6.flags & IP6T_F_PROTO, IP6T_F_PROTO);
  EXPECT_EQ(e->ipv6.dst.s6_addr[0], 0xfd);
  EXPECT_EQ(e->ipv6.dst.s6_addr[15], 0x01);
  EXPECT_EQ(e->ipv6.dmsk.s6_addr[15], 0xff);
  EXPECT_EQ(e->target_offset, 168 + 48 + 288);
  EXPECT_EQ(e->next_offset, 168 + 48 + 288 + 80);
  EXPECT_STREQ(match_at(b, 168)->u.user.name, "udp");
  const auto* r = reinterpret_cast<const nf_nat_range2*>(b.at<xt_entry_target>(e->target_offset)->data);
  EXPECT_EQ(r->min_addr.in6.s6_addr[0], 0xfd);
  EXPECT_EQ(r->min_addr.in6.s6_addr[15], 0x03);
  EXPECT_EQ(r->min_proto.all, htons(5353));
}

TEST(RuleBuilder, SctpMatchLayout) {
  RuleSpec s = tcp_dnat_v4();
  s.proto = Proto::Sctp;
  s.dport = 9000;
  const EntryBuffer b = build_entry(s);
  const auto* m = match_at(b, 112);
  EXPECT_STREQ(m->u.user.name, "sctp");
  EXPECT_EQ(m->u.user.match_size, 328);
  EXPECT_EQ(u16_at(b, 112 + 32), 9000);  // dpts come first in xt_sctp_info
  EXPECT_EQ(u16_at(b, 112 + 34), 9000);
  EXPECT_EQ(u16_at(b, 112 + 36), 0);  // spts {0,0}
  EXPECT_EQ(b.at<ipt_entry>(0)->target_offset, 112 + 328 + 288);
}

TEST(RuleBuilder, MasqueradeV4AndV6Sizes) {
  RuleSpec s;
  s.src = AddrMatch{pfx("10.0.0.2/32")};
  s.dst = AddrMatch{pfx("10.0.0.7/24"), true};
  s.target = Masquerade{};
  EntryBuffer b = build_entry(s);
  const auto* e = b.at<ipt_entry>(0);
  EXPECT_EQ(e->target_offset, 112);
  EXPECT_EQ(e->next_offset, 112 + 56);
  EXPECT_EQ(e->ip.dst.s_addr, inet_addr("10.0.0.0"));  // pre-masked
  EXPECT_EQ(e->ip.dmsk.s_addr, inet_addr("255.255.255.0"));
  EXPECT_EQ(e->ip.smsk.s_addr, 0xffffffffu);
  EXPECT_EQ(e->ip.invflags, IPT_INV_DSTIP);
  const auto* t = b.at<xt_entry_target>(112);
  EXPECT_STREQ(t->u.user.name, "MASQUERADE");
  EXPECT_EQ(reinterpret_cast<const nf_nat_ipv4_multi_range_compat*>(t->data)->rangesize, 1u);

  s.family = net::Family::V6;
  s.src = AddrMatch{pfx("fd00::2/128")};
  s.dst = AddrMatch{pfx("fd00::/64"), true};
  b = build_entry(s);
  EXPECT_EQ(b.at<ip6t_entry>(0)->next_offset, 168 + 72);
  EXPECT_EQ(b.at<ip6t_entry>(0)->ipv6.flags, 0);  // no protocol, no IP6T_F_PROTO
}

TEST(RuleBuilder, JumpWithAddrtypeAndComment) {
  RuleSpec s;
  s.dst_type_local = true;
  s.comment = "tether:shared hostports";
  s.target = Verdict{"TETHER-HOSTPORTS"};
  const EntryBuffer b = build_entry(s);
  const auto* m = match_at(b, 112);
  EXPECT_STREQ(m->u.user.name, "addrtype");
  EXPECT_EQ(m->u.user.revision, 1);
  EXPECT_EQ(m->u.user.match_size, 40);
  EXPECT_EQ(u16_at(b, 112 + 32), 0);  // source
  EXPECT_EQ(u16_at(b, 112 + 34), 4);  // dest = XT_ADDRTYPE_LOCAL
  const auto* e = b.at<ipt_entry>(0);
  EXPECT_EQ(e->target_offset, 112 + 40 + 288);
  EXPECT_EQ(e->next_offset, 112 + 40 + 288 + 40);
  const auto* t = b.at<xt_standard_target>(e->target_offset);
  EXPECT_EQ(t->target.u.user.target_size, 40);
  EXPECT_STREQ(t->target.u.user.name, "TETHER-HOSTPORTS");
}

TEST(RuleBuilder, MarkTargetAndMatch) {
  RuleSpec s;
  s.mark = MarkMatch{0x2000, 0x2000};
  s.target = SetMark{0x2000, 0x2000};
  const EntryBuffer b = build_entry(s);
  const auto* m = match_at(b, 112);
  EXPECT_STREQ(m->u.user.name, "mark");
  EXPECT_EQ(m->u.user.revision, 1);
  EXPECT_EQ(m->u.user.match_size, 48);
  const auto* t = b.at<xt_entry_target>(112 + 48);
  EXPECT_STREQ(t->u.user.name, "MARK");
  EXPECT_EQ(t->u.user.revision, 2);
  EXPECT_EQ(t->u.user.target_size, 40);
  std::uint32_t mark, mask;
  std::memcpy(&mark, t->data, 4);
  std::memcpy(&mask, t->data + 4, 4);
  EXPECT_EQ(mark, 0x2000u);
  EXPECT_EQ(mask, 0x2000u);
}

// GCC 12 reports a -Wmaybe-uninitialized false positive inside std::string for the optional
// IfaceMatch assignments below (GCC bug 105562 family).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
TEST(RuleBuilder, InterfaceMasks) {
  RuleSpec s;
  s.in = IfaceMatch{"eth0"};
  s.out = IfaceMatch{"veth+", true};
  const EntryBuffer b = build_entry(s);
  const auto* e = b.at<ipt_entry>(0);
  EXPECT_STREQ(e->ip.iniface, "eth0");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(e->ip.iniface_mask[i], 0xff) << i;  // NUL included
  EXPECT_EQ(e->ip.iniface_mask[5], 0);
  EXPECT_STREQ(e->ip.outiface, "veth+");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(e->ip.outiface_mask[i], 0xff) << i;  // '+' not masked
  EXPECT_EQ(e->ip.outiface_mask[4], 0);
  EXPECT_EQ(e->ip.invflags, IPT_INV_VIA_OUT);
}
#pragma GCC diagnostic pop

TEST(RuleBuilder, RejectsInconsistentSpecs) {
  RuleSpec s;
  s.dport = 80;  // no protocol
  EXPECT_THROW(build_entry(s), Error);
  RuleSpec fam;
  fam.src = AddrMatch{pfx("fd00::1/128")};  // v6 address in a v4 rule
  EXPECT_THROW(build_entry(fam), Error);
  RuleSpec longif;
  longif.out = IfaceMatch{"a-very-long-ifname"};
  EXPECT_THROW(build_entry(longif), Error);
}

TEST(RuleBuilder, CommentIsTruncatedTo255Bytes) {
  RuleSpec s;
  s.comment = std::string(300, 'x');
  const EntryBuffer b = build_entry(s);
  EXPECT_EQ(std::strlen(reinterpret_cast<const char*>(match_at(b, 112)->data)), 255u);
}

TEST(RuleText, SaveLines) {
  EXPECT_EQ(to_save_line("TETHER-HOSTPORTS", tcp_dnat_v4()),
            "-A TETHER-HOSTPORTS -p tcp -m tcp --dport 8080 -m comment --comment \"tether:abc\" "
            "-j DNAT --to-destination 10.1.2.3:80");
  RuleSpec m;
  m.src = AddrMatch{pfx("127.0.0.0/8")};
  m.out = IfaceMatch{"lo", true};
  m.comment = "plain_text-1";
  m.target = Masquerade{};
  EXPECT_EQ(to_save_line("C", m), "-A C -s 127.0.0.0/8 ! -o lo -m comment --comment plain_text-1 -j MASQUERADE");
  RuleSpec v6;
  v6.family = net::Family::V6;
  v6.dst = AddrMatch{pfx("fd00::/64"), true};
  v6.proto = Proto::Udp;
  v6.dport = 53;
  v6.target = Dnat{ip("fd00::3"), 5353};
  EXPECT_EQ(to_save_line("C", v6),
            "-A C ! -d fd00::/64 -p udp -m udp --dport 53 -j DNAT --to-destination [fd00::3]:5353");
  RuleSpec q;
  q.comment = "say \"hi\"";
  q.mark = MarkMatch{0x2000, 0x2000};
  q.target = SetMark{0x2000, 0x2000};
  EXPECT_EQ(to_save_line("C", q), "-A C -m mark --mark 0x2000/0x2000 -m comment --comment \"say \\\"hi\\\"\" -j MARK "
                                  "--set-xmark 0x2000/0x2000");
}

TEST(RuleParse, RoundTripsCommentProtoAndPort) {
  const EntryBuffer b = build_entry(tcp_dnat_v4());
  const ParsedRule p = parse_entry(net::Family::V4, b.data());
  ASSERT_TRUE(p.comment);
  EXPECT_EQ(*p.comment, "tether:abc");
  EXPECT_EQ(p.proto, IPPROTO_TCP);
  ASSERT_TRUE(p.dport);
  EXPECT_EQ(*p.dport, 8080);

  RuleSpec s;
  s.family = net::Family::V6;
  s.proto = Proto::Udp;
  s.dport = 5353;
  s.target = Verdict{"RETURN"};
  const EntryBuffer b6 = build_entry(s);
  const ParsedRule p6 = parse_entry(net::Family::V6, b6.data());
  EXPECT_FALSE(p6.comment);
  EXPECT_EQ(p6.proto, IPPROTO_UDP);
  EXPECT_EQ(p6.dport.value_or(0), 5353);
}

}  // namespace
}  // namespace tether::iptables
