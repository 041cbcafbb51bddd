// nftables expressions -> statements: recognises exactly the sequences compile() emits (which
// are nft's own), so DEL can read an attachment's keys out of its rules and CHECK can compare
// rules. Anything else -> nullopt (a rule someone else wrote, or a newer tether's).
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <bit>
#include <cstring>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/field_layout.hpp"

namespace tether::nftables {
namespace {

using K = Expr::Kind;

bool is_load(const Expr& e) {
  return e.kind == K::MetaLoad || e.kind == K::Payload || e.kind == K::CtLoad || e.kind == K::Fib;
}

std::optional<std::uint32_t> u32_of(const Bytes& b) {
  if (b.size() != 4) return std::nullopt;
  std::uint32_t v;
  std::memcpy(&v, b.data(), 4);
  return v;
}

// Contiguous leading ones of a netmask, or -1.
int prefix_of_mask(const Bytes& mask) {
  int len = 0;
  bool ended = false;
  for (std::uint8_t byte : mask) {
    for (int bit = 7; bit >= 0; --bit) {
      const bool one = (byte >> bit) & 1;
      if (one && ended) return -1;
      if (one)
        ++len;
      else
        ended = true;
    }
  }
  return len;
}

std::optional<Match> address_match(Family family, Field field, const Expr& load, const Expr* bw, const Expr& cmp) {
  const std::uint32_t full = detail::address_len(family);
  Bytes addr(full, 0);
  int len;
  if (bw) {
    if (load.len != full || bw->len != full || bw->data.size() != full || bw->xor_data != Bytes(full, 0))
      return std::nullopt;
    len = prefix_of_mask(bw->data);
    if (len <= 0 || len % 8 == 0 || cmp.data.size() != full) return std::nullopt;
  } else {
    len = static_cast<int>(load.len) * 8;
    if (cmp.data.size() != load.len) return std::nullopt;
  }
  std::memcpy(addr.data(), cmp.data.data(), cmp.data.size());
  const auto ip = net::IpAddress::from_bytes(family == Family::Ip ? net::Family::V4 : net::Family::V6, addr.data());
  const net::IpPrefix prefix(ip, len);
  if (!prefix.host_bits_zero()) return std::nullopt;
  return Match{field, cmp.key == NFT_CMP_NEQ, prefix, 0xffffffff};
}

// load [bitwise] cmp -> Match
std::optional<Match> match_of(Family family, const Expr& load, const Expr* bw, const Expr& cmp) {
  const auto field = detail::field_of(family, load);
  if (!field || load.dreg != detail::kReg1 || cmp.sreg != detail::kReg1) return std::nullopt;
  if (cmp.key != NFT_CMP_EQ && cmp.key != NFT_CMP_NEQ) return std::nullopt;
  if (bw && (bw->sreg != detail::kReg1 || bw->dreg != detail::kReg1)) return std::nullopt;
  const bool neg = cmp.key == NFT_CMP_NEQ;
  switch (*field) {
    case Field::SAddr:
    case Field::DAddr: return address_match(family, *field, load, bw, cmp);
    case Field::CtStatus:
    case Field::CtState: {
      // (status & bits) != 0, the only form compile() writes
      const auto bits = bw ? u32_of(bw->data) : std::nullopt;
      if (!bits || *bits == 0 || bw->len != 4 || u32_of(bw->xor_data) != 0u || !neg || u32_of(cmp.data) != 0u)
        return std::nullopt;
      return Match{*field, false, *bits, 0xffffffff};
    }
    case Field::Mark: {
      std::uint32_t mask = 0xffffffff;
      if (bw) {
        const auto m = u32_of(bw->data);
        if (!m || bw->len != 4 || u32_of(bw->xor_data) != 0u) return std::nullopt;
        mask = *m;
      }
      const auto v = u32_of(cmp.data);
      if (!v) return std::nullopt;
      return Match{Field::Mark, neg, *v, mask};
    }
    default: break;
  }
  if (bw) return std::nullopt;
  switch (*field) {
    case Field::L4Proto:
      if (cmp.data.size() != 1) return std::nullopt;
      return Match{*field, neg, std::uint32_t{cmp.data[0]}, 0xffffffff};
    case Field::ThDport:
      if (cmp.data.size() != 2) return std::nullopt;
      return Match{*field, neg, std::uint32_t(cmp.data[0] << 8 | cmp.data[1]), 0xffffffff};
    case Field::FibDaddrType: {
      const auto v = u32_of(cmp.data);
      if (!v) return std::nullopt;
      return Match{*field, neg, *v, 0xffffffff};
    }
    case Field::IifName:
    case Field::OifName: {
      if (cmp.data.size() != 16) return std::nullopt;
      std::string name(reinterpret_cast<const char*>(cmp.data.data()), 16);
      name.resize(name.find('\0') == std::string::npos ? 16 : name.find('\0'));
      return Match{*field, neg, name, 0xffffffff};
    }
    case Field::EtherSAddr: {
      if (cmp.data.size() != 6) return std::nullopt;
      MacAddress mac;
      std::memcpy(mac.data(), cmp.data.data(), 6);
      return Match{*field, neg, mac, 0xffffffff};
    }
    default: return std::nullopt;
  }
}

std::optional<Verdict> verdict_of(const Expr& e) {
  switch (static_cast<int>(e.key)) {
    case NF_ACCEPT: return Verdict{Verdict::Kind::Accept, {}};
    case NF_DROP: return Verdict{Verdict::Kind::Drop, {}};
    case NFT_RETURN: return Verdict{Verdict::Kind::Return, {}};
    case NFT_JUMP: return Verdict{Verdict::Kind::Jump, e.name};
    case NFT_GOTO: return Verdict{Verdict::Kind::Goto, e.name};
    default: return std::nullopt;
  }
}

std::optional<DnatTo> dnat_of(Family family, const Expr& addr, const Expr& port, const Expr& nat) {
  if (family != Family::Ip && family != Family::Ip6) return std::nullopt;
  const std::uint32_t full = detail::address_len(family);
  if (addr.verdict || port.verdict || addr.dreg != nat.sreg || port.dreg != nat.sreg_proto) return std::nullopt;
  if (nat.key != NFT_NAT_DNAT || nat.flags != NF_NAT_RANGE_PROTO_SPECIFIED) return std::nullopt;
  if (nat.family != (family == Family::Ip ? NFPROTO_IPV4 : NFPROTO_IPV6)) return std::nullopt;
  if (addr.data.size() != full || port.data.size() != 2) return std::nullopt;
  const auto ip = net::IpAddress::from_bytes(family == Family::Ip ? net::Family::V4 : net::Family::V6,
                                             addr.data.data());
  return DnatTo{ip, static_cast<std::uint16_t>(port.data[0] << 8 | port.data[1])};
}

// The nat expression of `dnat ip|ip6 to <key> map @m`: address from reg 1, port from the slot
// after the address. The kernel reports the flags it implies (PROTO_SPECIFIED; MAP_IPS is
// dropped when read); nft sends none.
bool dnat_map_nat(Family family, const Expr& nat) {
  if (nat.kind != K::Nat || (family != Family::Ip && family != Family::Ip6)) return false;
  const std::uint32_t addr = detail::address_len(family);
  return nat.key == NFT_NAT_DNAT && nat.family == (family == Family::Ip ? NFPROTO_IPV4 : NFPROTO_IPV6) &&
         nat.sreg == detail::kReg1 && nat.sreg_proto == detail::reg_at(addr / 4) &&
         (nat.flags == 0 || nat.flags == NF_NAT_RANGE_PROTO_SPECIFIED);
}

}  // namespace

std::optional<std::vector<Statement>> decompile(Family family, const std::vector<Expr>& exprs) {
  std::vector<Statement> out;
  const std::size_t n = exprs.size();
  std::size_t i = 0;
  auto at = [&](std::size_t k) -> const Expr* { return k < n ? &exprs[k] : nullptr; };
  while (i < n) {
    const Expr& e = exprs[i];
    if (e.kind == K::MetaLoad && e.key == NFT_META_MARK && at(i + 2) && at(i + 1)->kind == K::Bitwise &&
        at(i + 2)->kind == K::MetaSet) {
      const Expr& bw = *at(i + 1);
      const Expr& set = *at(i + 2);
      const auto mask = u32_of(bw.data), x = u32_of(bw.xor_data);
      if (set.key != NFT_META_MARK || !mask || !x || *mask != ~*x || bw.sreg != e.dreg || set.sreg != bw.dreg)
        return std::nullopt;
      out.push_back(SetMarkBits{*x});
      i += 3;
      continue;
    }
    if (is_load(e)) {
      // Consecutive loads ending in a lookup: a (concatenated) map key.
      std::size_t j = i;
      while (j < n && is_load(exprs[j])) ++j;
      if (j < n && exprs[j].kind == K::Lookup) {
        std::vector<Field> key;
        std::uint32_t slot = 0;
        for (std::size_t k = i; k < j; ++k) {
          const auto f = detail::field_of(family, exprs[k]);
          if (!f || *f == Field::FibDaddrType || *f == Field::Mark || *f == Field::CtStatus || *f == Field::CtState)
            return std::nullopt;
          if (exprs[k].dreg != detail::reg_at(slot)) return std::nullopt;
          const auto l = detail::field_load(family, *f);
          if (exprs[k].kind == K::Payload && exprs[k].len != l.len) return std::nullopt;
          key.push_back(*f);
          slot += (l.len + 3) / 4;
        }
        const Expr& lk = exprs[j];
        if (lk.sreg != detail::kReg1) return std::nullopt;
        if (lk.dreg == detail::kRegVerdict && lk.flags == 0) {
          out.push_back(VmapLookup{std::move(key), lk.name});
          i = j + 1;
        } else if (lk.dreg == kNoReg && (lk.flags & ~static_cast<std::uint32_t>(NFT_LOOKUP_F_INV)) == 0) {
          out.push_back(SetLookup{std::move(key), lk.name, (lk.flags & NFT_LOOKUP_F_INV) != 0});
          i = j + 1;
        } else if (lk.dreg == detail::kReg1 && lk.flags == 0 && at(j + 1) && dnat_map_nat(family, *at(j + 1))) {
          out.push_back(DnatMap{std::move(key), lk.name});
          i = j + 2;
        } else {
          return std::nullopt;
        }
        continue;
      }
      const Expr* bw = at(i + 1) && at(i + 1)->kind == K::Bitwise ? at(i + 1) : nullptr;
      const Expr* c = at(i + (bw ? 2 : 1));
      if (!c || c->kind != K::Cmp) return std::nullopt;
      auto m = match_of(family, e, bw, *c);
      if (!m) return std::nullopt;
      out.push_back(std::move(*m));
      i += bw ? 3 : 2;
      continue;
    }
    if (e.kind == K::Immediate && e.verdict) {
      auto v = verdict_of(e);
      if (!v || e.dreg != detail::kRegVerdict) return std::nullopt;
      out.push_back(VerdictStatement{*v});
      ++i;
      continue;
    }
    if (e.kind == K::Immediate && at(i + 2) && at(i + 1)->kind == K::Immediate && at(i + 2)->kind == K::Nat) {
      auto d = dnat_of(family, e, *at(i + 1), *at(i + 2));
      if (!d) return std::nullopt;
      out.push_back(*d);
      i += 3;
      continue;
    }
    if (e.kind == K::XtMatch) {
      out.push_back(XtMatch{e.name, e.key, e.data});
      ++i;
      continue;
    }
    if (e.kind == K::Counter) {
      out.push_back(Counter{});
      ++i;
      continue;
    }
    if (e.kind == K::Masq && e.flags == 0) {
      out.push_back(Masquerade{});
      ++i;
      continue;
    }
    return std::nullopt;
  }
  return out;
}

}  // namespace tether::nftables
