#pragma once
// nftables VM expressions as plain values: one struct for the handful of expression kinds tether
// uses (numbers are the kernel's: NFT_META_*, NFT_PAYLOAD_*, NFT_CMP_*, NFT_REG_*, ...). compile()
// and decompile() (statement <-> expressions) are pure and unit-tested; the libnftnl conversion
// is a 1:1 mapping in nftnl_expr.cpp.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/nftables/objects.hpp"
#include "lib/nftables/statement.hpp"

namespace tether::nftables {

struct Expr {
  enum class Kind : std::uint8_t {
    MetaLoad,
    MetaSet,
    Payload,
    CtLoad,
    Cmp,
    Bitwise,
    Fib,
    Lookup,
    Nat,
    Masq,
    Immediate,
    XtMatch,  // name = match name, key = revision, data = info
    Counter,  // packets and bytes are the kernel's: not kept
    Unknown
  };
  Kind kind = Kind::Unknown;
  std::uint32_t key = 0;   // meta/ct key | payload base | fib result | nat type | cmp op | verdict code
  std::uint32_t dreg = 0;  // lookup: kNoReg for a plain set (no data)
  std::uint32_t sreg = 0;
  std::uint32_t offset = 0;      // payload offset
  std::uint32_t len = 0;         // payload/bitwise length
  std::uint32_t flags = 0;       // fib flags | nat flags | lookup flags
  std::uint32_t family = 0;      // nat NFPROTO_*
  std::uint32_t sreg_proto = 0;  // nat proto_min register
  bool verdict = false;          // immediate: data is a verdict (key = code, name = chain)
  Bytes data;                    // cmp/immediate data, bitwise mask
  Bytes xor_data;                // bitwise xor
  std::string name;              // lookup set | verdict chain | xt match | unknown expression's name
  bool operator==(const Expr&) const = default;
};

inline constexpr std::uint32_t kNoReg = ~0u;

// Statements -> expressions, exactly as `nft` 1.0.6 emits them for the same text (checked in
// tests with `nft --debug=netlink`). Throws tether::Error for a statement the family cannot hold.
std::vector<Expr> compile(Family family, const std::vector<Statement>& rule);

// Expressions -> statements; nullopt when the sequence is not one compile() produces.
std::optional<std::vector<Statement>> decompile(Family family, const std::vector<Expr>& exprs);

}  // namespace tether::nftables
