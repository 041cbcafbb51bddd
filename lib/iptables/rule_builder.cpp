// Pure byte builder for x_tables entries (no libiptc calls, no syscalls). Layout facts, all
// verified against the iptables 1.8.9 CLI (the integration tests check every rule with `iptables-legacy -C`):
//   [ipt_entry 112 B | ip6t_entry 168 B][match]*[target], every part XT_ALIGN(32 + payload),
//   everything zeroed, revisions = the highest both iptables 1.8.9 and the kernel know
//   (DNAT 2, MARK 2, addrtype 1, mark 1, the rest 0), NAT ports in network order,
//   tcp/udp port ranges in host order, IP6T_F_PROTO whenever a v6 protocol is set.
#include <arpa/inet.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_addrtype.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>
#include <linux/netfilter/xt_mark.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>
// xt_sctp.h's inline helpers use C's _Bool.
#define _Bool bool
#include <linux/netfilter/xt_sctp.h>
#undef _Bool
#undef bytes  // xt_sctp.h defines bytes(type), which would break IpAddress::bytes()

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "lib/iptables/rule_spec.hpp"
#include "lib/util/error.hpp"

namespace tether::iptables {
namespace {

struct Part {  // one match or target before it is laid out
  std::string name;
  std::uint8_t revision = 0;
  std::vector<std::uint8_t> payload;
  bool standard = false;  // standard target: payload is the verdict int
};

template <class T>
Part make_part(const char* name, std::uint8_t revision, const T& payload) {
  Part p{name, revision, std::vector<std::uint8_t>(sizeof(T)), false};
  std::memcpy(p.payload.data(), &payload, sizeof(T));
  return p;
}

std::size_t part_size(const Part& p) { return XT_ALIGN(sizeof(xt_entry_match) + p.payload.size()); }

void check_family(const RuleSpec& spec, const net::IpAddress& a, const char* what) {
  if (a.family() != spec.family)
    throw Error(std::string("rule: ") + what + " " + a.to_string() + " is not of the rule's family");
}

Part proto_match(const RuleSpec& spec) {
  const std::uint16_t port = *spec.dport;
  switch (spec.proto) {
    case Proto::Tcp: {
      xt_tcp m{};
      m.spts[0] = 0;
      m.spts[1] = 0xffff;
      m.dpts[0] = m.dpts[1] = port;
      return make_part("tcp", 0, m);
    }
    case Proto::Udp: {
      xt_udp m{};
      m.spts[0] = 0;
      m.spts[1] = 0xffff;
      m.dpts[0] = m.dpts[1] = port;
      return make_part("udp", 0, m);
    }
    case Proto::Sctp: {
      xt_sctp_info m{};
      m.dpts[0] = m.dpts[1] = port;  // sctp lists dpts first; spts stay {0,0} like the CLI
      m.flags = XT_SCTP_DEST_PORTS;
      for (auto& f : m.flag_info) f.chunktype = 0xff;  // iptables' sctp_init
      return make_part("sctp", 0, m);
    }
    case Proto::Any: break;
  }
  throw Error("rule: --dport needs protocol tcp, udp or sctp");
}

std::vector<Part> matches_of(const RuleSpec& spec) {
  std::vector<Part> parts;
  if (spec.dport) parts.push_back(proto_match(spec));
  if (spec.dst_type_local) {
    xt_addrtype_info_v1 m{};
    m.dest = XT_ADDRTYPE_LOCAL;
    parts.push_back(make_part("addrtype", 1, m));
  }
  if (spec.mark) {
    xt_mark_mtinfo1 m{};
    m.mark = spec.mark->mark;
    m.mask = spec.mark->mask;
    m.invert = spec.mark->invert ? 1 : 0;
    parts.push_back(make_part("mark", 1, m));
  }
  if (spec.ct) {
    xt_conntrack_mtinfo3 m{};
    m.match_flags = XT_CONNTRACK_STATE;
    m.state_mask = spec.ct->states;
    parts.push_back(make_part("conntrack", 3, m));
  }
  if (!spec.comment.empty()) {
    xt_comment_info m{};  // always the full 256 bytes: the kernel rejects a short payload
    std::memcpy(m.comment, spec.comment.data(), std::min(spec.comment.size(), sizeof(m.comment) - 1));
    parts.push_back(make_part("comment", 0, m));
  }
  return parts;
}

Part target_of(const RuleSpec& spec) {
  struct Visitor {
    const RuleSpec& spec;
    Part operator()(const Verdict& v) const {
      if (v.label.empty() || v.label.size() >= XT_EXTENSION_MAXNAMELEN - 1)
        throw Error("rule: bad target label '" + v.label + "'");
      Part p{v.label, 0, std::vector<std::uint8_t>(sizeof(int)), true};
      return p;  // verdict 0: libiptc maps the label to the verdict/offset itself
    }
    Part operator()(const Masquerade&) const {
      if (spec.family == net::Family::V4) {
        nf_nat_ipv4_multi_range_compat r{};
        r.rangesize = 1;  // 0 is rejected by the kernel
        return make_part("MASQUERADE", 0, r);
      }
      nf_nat_range r{};
      return make_part("MASQUERADE", 0, r);
    }
    Part operator()(const Dnat& d) const {
      check_family(spec, d.address, "DNAT address");
      nf_nat_range2 r{};
      r.flags = NF_NAT_RANGE_MAP_IPS;
      if (spec.family == net::Family::V4) {
        std::memcpy(&r.min_addr.ip, d.address.bytes(), 4);
        std::memcpy(&r.max_addr.ip, d.address.bytes(), 4);
      } else {
        std::memcpy(&r.min_addr.in6, d.address.bytes(), 16);
        std::memcpy(&r.max_addr.in6, d.address.bytes(), 16);
      }
      if (d.port != 0) {
        r.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
        r.min_proto.all = r.max_proto.all = htons(d.port);  // network order, unlike xt_tcp
      }
      return make_part("DNAT", 2, r);
    }
    Part operator()(const SetMark& m) const {
      xt_mark_tginfo2 t{};
      t.mark = m.mark;
      t.mask = m.mask;
      return make_part("MARK", 2, t);
    }
  };
  return std::visit(Visitor{spec}, spec.target);
}

void write_part(EntryBuffer& buf, std::size_t offset, const Part& p) {
  auto* m = buf.at<xt_entry_match>(offset);  // xt_entry_target has the same header layout
  m->u.user.match_size = static_cast<std::uint16_t>(part_size(p));
  std::memcpy(m->u.user.name, p.name.data(), std::min(p.name.size(), sizeof(m->u.user.name) - 1));
  m->u.user.revision = p.revision;
  std::memcpy(m->data, p.payload.data(), p.payload.size());
}

void fill_iface(const IfaceMatch& i, char* name, unsigned char* mask) {
  if (i.name.empty() || i.name.size() >= IFNAMSIZ) throw Error("rule: bad interface name '" + i.name + "'");
  std::memcpy(name, i.name.data(), i.name.size());
  // Exact names match NUL included; "foo+" keeps the '+' but masks only "foo". A zero mask would
  // match every interface.
  const bool wildcard = i.name.back() == '+';
  std::memset(mask, 0xff, wildcard ? i.name.size() - 1 : i.name.size() + 1);
}

template <class Addr>
void fill_addr(const RuleSpec& spec, const AddrMatch& a, Addr& addr, Addr& mask) {
  check_family(spec, a.prefix.address(), "address");
  std::memcpy(&addr, a.prefix.network().address().bytes(), sizeof(Addr));
  std::memcpy(&mask, a.prefix.netmask().bytes(), sizeof(Addr));
}

template <class Ip>
void fill_ip(const RuleSpec& spec, Ip& ip, std::uint8_t inv_src, std::uint8_t inv_dst, std::uint8_t inv_in,
             std::uint8_t inv_out) {
  if (spec.src) {
    fill_addr(spec, *spec.src, ip.src, ip.smsk);
    if (spec.src->invert) ip.invflags |= inv_src;
  }
  if (spec.dst) {
    fill_addr(spec, *spec.dst, ip.dst, ip.dmsk);
    if (spec.dst->invert) ip.invflags |= inv_dst;
  }
  if (spec.in) {
    fill_iface(*spec.in, ip.iniface, ip.iniface_mask);
    if (spec.in->invert) ip.invflags |= inv_in;
  }
  if (spec.out) {
    fill_iface(*spec.out, ip.outiface, ip.outiface_mask);
    if (spec.out->invert) ip.invflags |= inv_out;
  }
  ip.proto = static_cast<std::uint16_t>(spec.proto);
}

}  // namespace

const char* proto_name(Proto p) {
  switch (p) {
    case Proto::Tcp: return "tcp";
    case Proto::Udp: return "udp";
    case Proto::Sctp: return "sctp";
    case Proto::Any: break;
  }
  return "all";
}

EntryBuffer build_entry(const RuleSpec& spec) {
  const bool v4 = spec.family == net::Family::V4;
  const std::size_t header = v4 ? sizeof(ipt_entry) : sizeof(ip6t_entry);
  const std::vector<Part> matches = matches_of(spec);
  const Part target = target_of(spec);

  std::size_t target_offset = header;
  for (const auto& m : matches) target_offset += part_size(m);
  const std::size_t target_size = target.standard ? XT_ALIGN(sizeof(xt_standard_target)) : part_size(target);
  EntryBuffer buf(target_offset + target_size);

  if (v4) {
    auto* e = buf.at<ipt_entry>(0);
    fill_ip(spec, e->ip, IPT_INV_SRCIP, IPT_INV_DSTIP, IPT_INV_VIA_IN, IPT_INV_VIA_OUT);
    e->target_offset = static_cast<std::uint16_t>(target_offset);
    e->next_offset = static_cast<std::uint16_t>(buf.size());
  } else {
    auto* e = buf.at<ip6t_entry>(0);
    fill_ip(spec, e->ipv6, IP6T_INV_SRCIP, IP6T_INV_DSTIP, IP6T_INV_VIA_IN, IP6T_INV_VIA_OUT);
    if (spec.proto != Proto::Any) e->ipv6.flags |= IP6T_F_PROTO;  // else -C/-D never find it
    e->target_offset = static_cast<std::uint16_t>(target_offset);
    e->next_offset = static_cast<std::uint16_t>(buf.size());
  }
  std::size_t offset = header;
  for (const auto& m : matches) {
    write_part(buf, offset, m);
    offset += part_size(m);
  }
  if (target.standard) {
    auto* t = buf.at<xt_standard_target>(offset);
    t->target.u.user.target_size = static_cast<std::uint16_t>(target_size);
    std::memcpy(t->target.u.user.name, target.name.data(), target.name.size());
  } else {
    write_part(buf, offset, target);
  }
  return buf;
}

}  // namespace tether::iptables
