#include "lib/nftables/field_layout.hpp"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "lib/util/error.hpp"

namespace tether::nftables::detail {

static_assert(kRegVerdict == NFT_REG_VERDICT && kReg1 == NFT_REG_1 && kReg2 == NFT_REG_2);

std::uint32_t address_len(Family family) {
  if (family == Family::Ip) return 4;
  if (family == Family::Ip6) return 16;
  throw Error(std::string("nftables: IP address match in a table of family ") + family_name(family));
}

namespace {
std::uint32_t saddr_offset(Family f) { return f == Family::Ip ? 12 : 8; }
std::uint32_t daddr_offset(Family f) { return f == Family::Ip ? 16 : 24; }
}  // namespace

FieldLoad field_load(Family family, Field field) {
  using K = Expr::Kind;
  switch (field) {
    case Field::L4Proto: return {K::MetaLoad, NFT_META_L4PROTO, 0, 1, 0};
    case Field::IifName: return {K::MetaLoad, NFT_META_IIFNAME, 0, 16, 0};
    case Field::OifName: return {K::MetaLoad, NFT_META_OIFNAME, 0, 16, 0};
    case Field::Mark: return {K::MetaLoad, NFT_META_MARK, 0, 4, 0};
    case Field::SAddr: return {K::Payload, NFT_PAYLOAD_NETWORK_HEADER, saddr_offset(family), address_len(family), 0};
    case Field::DAddr: return {K::Payload, NFT_PAYLOAD_NETWORK_HEADER, daddr_offset(family), address_len(family), 0};
    case Field::ThDport: return {K::Payload, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, 0};
    case Field::EtherSAddr:
      if (family != Family::Bridge) throw Error("nftables: ether saddr outside a bridge table");
      return {K::Payload, NFT_PAYLOAD_LL_HEADER, 6, 6, 0};
    case Field::FibDaddrType: return {K::Fib, NFT_FIB_RESULT_ADDRTYPE, 0, 4, NFTA_FIB_F_DADDR};
    case Field::CtStatus: return {K::CtLoad, NFT_CT_STATUS, 0, 4, 0};
    case Field::CtState: return {K::CtLoad, NFT_CT_STATE, 0, 4, 0};
  }
  throw Error("nftables: unknown field");
}

std::optional<Field> field_of(Family family, const Expr& e) {
  if (e.kind == Expr::Kind::MetaLoad) {
    switch (e.key) {
      case NFT_META_L4PROTO: return Field::L4Proto;
      case NFT_META_IIFNAME: return Field::IifName;
      case NFT_META_OIFNAME: return Field::OifName;
      case NFT_META_MARK: return Field::Mark;
      default: return std::nullopt;
    }
  }
  if (e.kind == Expr::Kind::CtLoad) {
    if (e.key == NFT_CT_STATUS) return Field::CtStatus;
    if (e.key == NFT_CT_STATE) return Field::CtState;
    return std::nullopt;
  }
  if (e.kind == Expr::Kind::Fib) {
    if (e.key == NFT_FIB_RESULT_ADDRTYPE && e.flags == NFTA_FIB_F_DADDR) return Field::FibDaddrType;
    return std::nullopt;
  }
  if (e.kind != Expr::Kind::Payload) return std::nullopt;
  if (e.key == NFT_PAYLOAD_TRANSPORT_HEADER && e.offset == 2 && e.len == 2) return Field::ThDport;
  if (e.key == NFT_PAYLOAD_LL_HEADER && e.offset == 6 && e.len == 6 && family == Family::Bridge)
    return Field::EtherSAddr;
  if (e.key != NFT_PAYLOAD_NETWORK_HEADER || (family != Family::Ip && family != Family::Ip6)) return std::nullopt;
  if (e.len == 0 || e.len > address_len(family)) return std::nullopt;
  if (e.offset == saddr_offset(family)) return Field::SAddr;
  if (e.offset == daddr_offset(family)) return Field::DAddr;
  return std::nullopt;
}

std::uint32_t reg_at(std::uint32_t index32) {
  return index32 % 4 == 0 ? NFT_REG_1 + index32 / 4 : NFT_REG32_00 + index32;
}

std::optional<std::uint32_t> index_of_reg(std::uint32_t reg) {
  if (reg >= NFT_REG_1 && reg <= NFT_REG_4) return (reg - NFT_REG_1) * 4;
  if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15) return reg - NFT_REG32_00;
  return std::nullopt;
}

std::uint32_t verdict_code(Verdict::Kind kind) {
  switch (kind) {
    case Verdict::Kind::Accept: return NF_ACCEPT;
    case Verdict::Kind::Drop: return NF_DROP;
    case Verdict::Kind::Return: return static_cast<std::uint32_t>(NFT_RETURN);
    case Verdict::Kind::Jump: return static_cast<std::uint32_t>(NFT_JUMP);
    case Verdict::Kind::Goto: return static_cast<std::uint32_t>(NFT_GOTO);
  }
  return NF_ACCEPT;
}

}  // namespace tether::nftables::detail
