#pragma once
// Internal to lib/nftables (compile.cpp, decompile.cpp, nftnl_objects.cpp): where each Field is
// loaded from, how nft numbers registers and verdicts. Pure; no kernel headers.
#include <cstdint>
#include <optional>

#include "lib/nftables/expr.hpp"

namespace tether::nftables::detail {

// How a Field is loaded into a register: which expression, which key/base/offset and how many
// bytes the value has (its register space is that rounded up to 4).
struct FieldLoad {
  Expr::Kind kind = Expr::Kind::MetaLoad;  // MetaLoad | Payload | CtLoad | Fib
  std::uint32_t key = 0;                   // meta/ct key | payload base | fib result
  std::uint32_t offset = 0;                // payload
  std::uint32_t len = 0;                   // value bytes
  std::uint32_t flags = 0;                 // fib
};

// Throws tether::Error when the family has no such field (ether saddr outside bridge, ...).
FieldLoad field_load(Family family, Field field);
// The field an expression loads (len = bytes loaded, may be a prefix of an address); nullopt
// for loads tether never emits.
std::optional<Field> field_of(Family family, const Expr& load);

// nft's register naming for the 32-bit slot `index` of the register file: the 16-byte NFT_REG_n
// when the slot starts one, else NFT_REG32_nn (both address the same storage).
std::uint32_t reg_at(std::uint32_t index32);
std::optional<std::uint32_t> index_of_reg(std::uint32_t reg);

inline constexpr std::uint32_t kRegVerdict = 0;
inline constexpr std::uint32_t kReg1 = 1;
inline constexpr std::uint32_t kReg2 = 2;

std::uint32_t address_len(Family family);  // 4 or 16; throws outside ip/ip6

// The kernel's number for a verdict (NF_ACCEPT, NFT_JUMP, ...): in rules and in verdict maps.
std::uint32_t verdict_code(Verdict::Kind kind);

}  // namespace tether::nftables::detail
