// Statements -> nftables expressions, copying what `nft --debug=netlink` shows nft 1.0.6 emitting
// for the same rule text (so `nft list` decompiles our rules into ordinary nft text):
//   ip saddr 10.0.0.0/24        payload load 3b @ network + 12 => reg 1; cmp eq reg 1 0a0000
//   ip daddr 224.0.0.0/4        payload load 4b; bitwise reg 1 = (reg 1 & f0000000) ^ 0; cmp eq e0000000
//   meta mark & 0x2000 == 0x2000  meta load mark; bitwise (& 0x2000) ^ 0; cmp eq 0x2000
//   meta mark set meta mark | b   meta load mark; bitwise (& ~b) ^ b; meta set mark
//   a . b . c vmap @m           loads into consecutive 32-bit register slots; lookup reg 1 set m dreg 0
//   a . b @s / a . b != @s      the same loads; lookup reg 1 set s (flags 0x1 when negated; no dreg)
//   dnat ip to a . b map @m     the same loads; lookup reg 1 set m dreg 1; nat dnat ip addr_min reg 1
//                               proto_min <the slot after the address> (no flags: the kernel adds them)
//   ct status dnat              ct load status; bitwise (& 0x20) ^ 0; cmp neq 0
//   ct state established,related  ct load state; bitwise (& 0x6) ^ 0; cmp neq 0
//   counter                     counter (iptables-nft: packets 0 bytes 0; set when built)
//   xt match                    match name <name> rev <rev> info <the kernel struct>, as iptables-nft
//   dnat to A:P                 immediate reg 1 A; immediate reg 2 P; nat dnat <family> reg 1 reg 2 flags 0x2
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <cstring>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/field_layout.hpp"
#include "lib/util/error.hpp"

namespace tether::nftables {
namespace {

using detail::field_load;
using detail::kReg1;
using detail::kReg2;
using detail::kRegVerdict;

Bytes u32_host(std::uint32_t v) {
  Bytes b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}

Expr load(Family family, Field field, std::uint32_t dreg, std::uint32_t len_override = 0) {
  const auto l = field_load(family, field);
  Expr e;
  e.kind = l.kind;
  e.key = l.key;
  e.dreg = dreg;
  e.flags = l.flags;
  if (l.kind == Expr::Kind::Payload) {
    e.offset = l.offset;
    e.len = len_override ? len_override : l.len;
  }
  return e;
}

Expr cmp(bool negate, Bytes data) {
  Expr e;
  e.kind = Expr::Kind::Cmp;
  e.sreg = kReg1;
  e.key = negate ? NFT_CMP_NEQ : NFT_CMP_EQ;
  e.data = std::move(data);
  return e;
}

Expr bitwise(std::uint32_t len, Bytes mask, Bytes xor_data) {
  Expr e;
  e.kind = Expr::Kind::Bitwise;
  e.sreg = e.dreg = kReg1;
  e.len = len;
  e.data = std::move(mask);
  e.xor_data = std::move(xor_data);
  return e;
}

template <class T>
const T& value_as(const Match& m) {
  if (const T* v = std::get_if<T>(&m.value)) return *v;
  throw Error(std::string("nftables: match on ") + field_name(m.field) + " has a value of the wrong kind");
}

void compile_address(Family family, const Match& m, std::vector<Expr>& out) {
  const auto& prefix = value_as<net::IpPrefix>(m);
  const std::uint32_t full = detail::address_len(family);
  if (prefix.address().size() != full)
    throw Error("nftables: " + prefix.to_string() + " in a table of family " + family_name(family));
  const int len = prefix.length();
  if (len <= 0) throw Error("nftables: empty prefix " + prefix.to_string());
  const net::IpAddress network = prefix.network().address();
  const Bytes net_bytes(network.bytes(), network.bytes() + full);
  if (len == static_cast<int>(full * 8) || len % 8 == 0) {
    // nft loads only the prefix's whole bytes.
    const std::uint32_t n = static_cast<std::uint32_t>(len) / 8;
    out.push_back(load(family, m.field, kReg1, n));
    out.push_back(cmp(m.negate, Bytes(net_bytes.begin(), net_bytes.begin() + n)));
    return;
  }
  const net::IpAddress mask = prefix.netmask();
  out.push_back(load(family, m.field, kReg1));
  out.push_back(bitwise(full, Bytes(mask.bytes(), mask.bytes() + full), Bytes(full, 0)));
  out.push_back(cmp(m.negate, net_bytes));
}

void compile_match(Family family, const Match& m, std::vector<Expr>& out) {
  switch (m.field) {
    case Field::SAddr:
    case Field::DAddr: return compile_address(family, m, out);
    case Field::L4Proto: {
      const auto proto = value_as<std::uint32_t>(m);
      if (proto > 255) throw Error("nftables: l4proto " + std::to_string(proto) + " out of range");
      out.push_back(load(family, m.field, kReg1));
      out.push_back(cmp(m.negate, Bytes{static_cast<std::uint8_t>(proto)}));
      return;
    }
    case Field::ThDport: {
      const auto port = value_as<std::uint32_t>(m);
      if (port > 65535) throw Error("nftables: port " + std::to_string(port) + " out of range");
      out.push_back(load(family, m.field, kReg1));
      out.push_back(cmp(m.negate, Bytes{static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)}));
      return;
    }
    case Field::Mark: {
      out.push_back(load(family, m.field, kReg1));
      if (m.mask != 0xffffffff) out.push_back(bitwise(4, u32_host(m.mask), u32_host(0)));
      out.push_back(cmp(m.negate, u32_host(value_as<std::uint32_t>(m))));
      return;
    }
    case Field::FibDaddrType:
      out.push_back(load(family, m.field, kReg1));
      out.push_back(cmp(m.negate, u32_host(value_as<std::uint32_t>(m))));
      return;
    case Field::CtStatus:
    case Field::CtState: {
      // nft's `ct status != dnat` is not the negation of this sequence's test: not needed, not offered.
      if (m.negate) throw Error(std::string("nftables: negated ") + field_name(m.field) + " match");
      const auto bits = value_as<std::uint32_t>(m);
      if (bits == 0) throw Error(std::string("nftables: ") + field_name(m.field) + " match without bits");
      out.push_back(load(family, m.field, kReg1));
      out.push_back(bitwise(4, u32_host(bits), u32_host(0)));
      out.push_back(cmp(true, u32_host(0)));
      return;
    }
    case Field::IifName:
    case Field::OifName: {
      const auto& name = value_as<std::string>(m);
      if (name.empty() || name.size() >= 16)
        throw Error("nftables: interface name '" + name + "' must have 1-15 characters");
      Bytes b(16, 0);
      std::memcpy(b.data(), name.data(), name.size());
      out.push_back(load(family, m.field, kReg1));
      out.push_back(cmp(m.negate, std::move(b)));
      return;
    }
    case Field::EtherSAddr: {
      const auto& mac = value_as<MacAddress>(m);
      out.push_back(load(family, m.field, kReg1));
      out.push_back(cmp(m.negate, Bytes(mac.begin(), mac.end())));
      return;
    }
  }
}

// Loads the fields of a (concatenated) key into consecutive 32-bit register slots from reg 1 on.
void load_key(Family family, const std::vector<Field>& key, const std::string& set, std::vector<Expr>& out) {
  if (key.empty()) throw Error("nftables: lookup in @" + set + " without a key");
  std::uint32_t slot = 0;
  for (Field f : key) {
    if (f == Field::FibDaddrType || f == Field::Mark || f == Field::CtStatus || f == Field::CtState)
      throw Error(std::string("nftables: ") + field_name(f) + " as a key of @" + set);
    const auto l = field_load(family, f);
    out.push_back(load(family, f, detail::reg_at(slot)));
    slot += (l.len + 3) / 4;
  }
  if (slot > 16) throw Error("nftables: key of @" + set + " exceeds the register file");
}

Expr lookup(const std::string& set, std::uint32_t dreg, std::uint32_t flags) {
  Expr e;
  e.kind = Expr::Kind::Lookup;
  e.sreg = kReg1;
  e.dreg = dreg;
  e.flags = flags;
  e.name = set;
  return e;
}

void compile_lookup(Family family, const VmapLookup& v, std::vector<Expr>& out) {
  load_key(family, v.key, v.map, out);
  out.push_back(lookup(v.map, kRegVerdict, 0));
}

void compile_set_lookup(Family family, const SetLookup& l, std::vector<Expr>& out) {
  load_key(family, l.key, l.set, out);
  out.push_back(lookup(l.set, kNoReg, l.negate ? NFT_LOOKUP_F_INV : 0));
}

void compile_dnat_map(Family family, const DnatMap& d, std::vector<Expr>& out) {
  const std::uint32_t addr = detail::address_len(family);
  load_key(family, d.key, d.map, out);
  // The map's data (address . port) lands in reg 1 on: the address first, the port in the slot
  // after it.
  out.push_back(lookup(d.map, kReg1, 0));
  Expr nat;
  nat.kind = Expr::Kind::Nat;
  nat.key = NFT_NAT_DNAT;
  nat.family = family == Family::Ip ? NFPROTO_IPV4 : NFPROTO_IPV6;
  nat.sreg = kReg1;
  nat.sreg_proto = detail::reg_at(addr / 4);
  out.push_back(std::move(nat));
}

void compile_dnat(Family family, const DnatTo& d, std::vector<Expr>& out) {
  const std::uint32_t full = detail::address_len(family);
  if (d.addr.size() != full)
    throw Error("nftables: dnat to " + d.addr.to_string() + " in a table of family " + family_name(family));
  if (d.port == 0) throw Error("nftables: dnat to port 0");
  Expr addr;
  addr.kind = Expr::Kind::Immediate;
  addr.dreg = kReg1;
  addr.data.assign(d.addr.bytes(), d.addr.bytes() + full);
  Expr port;
  port.kind = Expr::Kind::Immediate;
  port.dreg = kReg2;
  port.data = {static_cast<std::uint8_t>(d.port >> 8), static_cast<std::uint8_t>(d.port & 0xff)};
  Expr nat;
  nat.kind = Expr::Kind::Nat;
  nat.key = NFT_NAT_DNAT;
  nat.family = family == Family::Ip ? NFPROTO_IPV4 : NFPROTO_IPV6;
  nat.sreg = kReg1;
  nat.sreg_proto = kReg2;
  nat.flags = NF_NAT_RANGE_PROTO_SPECIFIED;
  out.push_back(std::move(addr));
  out.push_back(std::move(port));
  out.push_back(std::move(nat));
}

}  // namespace

std::vector<Expr> compile(Family family, const std::vector<Statement>& rule) {
  std::vector<Expr> out;
  for (const auto& s : rule) {
    if (const auto* m = std::get_if<Match>(&s)) {
      compile_match(family, *m, out);
    } else if (const auto* b = std::get_if<SetMarkBits>(&s)) {
      out.push_back(load(family, Field::Mark, kReg1));
      out.push_back(bitwise(4, u32_host(~b->bits), u32_host(b->bits)));
      Expr set;
      set.kind = Expr::Kind::MetaSet;
      set.key = NFT_META_MARK;
      set.sreg = kReg1;
      out.push_back(std::move(set));
    } else if (const auto* v = std::get_if<VmapLookup>(&s)) {
      compile_lookup(family, *v, out);
    } else if (const auto* l = std::get_if<SetLookup>(&s)) {
      compile_set_lookup(family, *l, out);
    } else if (const auto* dm = std::get_if<DnatMap>(&s)) {
      compile_dnat_map(family, *dm, out);
    } else if (const auto* d = std::get_if<DnatTo>(&s)) {
      compile_dnat(family, *d, out);
    } else if (std::holds_alternative<Masquerade>(s)) {
      Expr e;
      e.kind = Expr::Kind::Masq;
      out.push_back(std::move(e));
    } else if (const auto* x = std::get_if<XtMatch>(&s)) {
      if (x->name.empty() || x->name.size() >= 29)
        throw Error("nftables: xt match name '" + x->name + "' must have 1-28 characters");
      if (x->info.empty()) throw Error("nftables: xt match " + x->name + " without its info");
      Expr e;
      e.kind = Expr::Kind::XtMatch;
      e.name = x->name;
      e.key = x->rev;
      e.data = x->info;
      out.push_back(std::move(e));
    } else if (std::holds_alternative<Counter>(s)) {
      Expr e;
      e.kind = Expr::Kind::Counter;
      out.push_back(std::move(e));
    } else if (const auto* vs = std::get_if<VerdictStatement>(&s)) {
      const bool to_chain = vs->verdict.kind == Verdict::Kind::Jump || vs->verdict.kind == Verdict::Kind::Goto;
      if (to_chain == vs->verdict.chain.empty()) throw Error("nftables: jump/goto needs a chain, other verdicts none");
      Expr e;
      e.kind = Expr::Kind::Immediate;
      e.dreg = kRegVerdict;
      e.verdict = true;
      e.key = detail::verdict_code(vs->verdict.kind);
      e.name = vs->verdict.chain;
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace tether::nftables
