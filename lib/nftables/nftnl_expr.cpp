// Expr <-> libnftnl expressions, attribute for attribute (the attributes nft 1.0.6 sets for the
// same expressions; compile.cpp decides which expressions).
#include <cstdio>  // libnftnl headers use FILE without including it

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/nftnl_build.hpp"

namespace tether::nftables::detail {
namespace {

struct ExprFree {
  void operator()(nftnl_expr* e) const noexcept { nftnl_expr_free(e); }
};
using ExprPtr = std::unique_ptr<nftnl_expr, ExprFree>;

class Builder {
 public:
  explicit Builder(const char* name) : name_(name), e_(nftnl_expr_alloc(name)) {
    if (!e_) throw NftError(std::string("libnftnl: allocate expression ") + name, ENOMEM);
  }
  Builder& u32(std::uint16_t attr, std::uint32_t v) { return data(attr, &v, sizeof v); }
  Builder& u64(std::uint16_t attr, std::uint64_t v) { return data(attr, &v, sizeof v); }
  Builder& bytes(std::uint16_t attr, const Bytes& b) {
    return data(attr, b.data(), static_cast<std::uint32_t>(b.size()));
  }
  // libnftnl keeps the pointer of a match's info (and frees it with the expression): it gets a
  // malloc'd copy, ours again when the setter refuses it.
  Builder& owned_bytes(std::uint16_t attr, const Bytes& b) {
    void* copy = std::malloc(b.size());
    if (!copy)
      throw NftError(std::string("libnftnl: allocate ") + std::to_string(b.size()) + " bytes for " + name_, ENOMEM);
    std::memcpy(copy, b.data(), b.size());
    if (nftnl_expr_set(e_.get(), attr, copy, static_cast<std::uint32_t>(b.size())) < 0) {
      std::free(copy);
      fail(attr);
    }
    return *this;
  }
  Builder& str(std::uint16_t attr, const std::string& s) {
    if (nftnl_expr_set_str(e_.get(), attr, s.c_str()) < 0) fail(attr);
    return *this;
  }
  ExprPtr take() { return std::move(e_); }

 private:
  Builder& data(std::uint16_t attr, const void* p, std::uint32_t len) {
    if (nftnl_expr_set(e_.get(), attr, p, len) < 0) fail(attr);
    return *this;
  }
  [[noreturn]] void fail(std::uint16_t attr) {
    throw NftError(std::string("libnftnl: set attribute ") + std::to_string(attr) + " of expression " + name_,
                   errno ? errno : EINVAL);
  }
  const char* name_;
  ExprPtr e_;
};

ExprPtr build(const Expr& x) {
  using K = Expr::Kind;
  switch (x.kind) {
    case K::MetaLoad: return Builder("meta").u32(NFTNL_EXPR_META_KEY, x.key).u32(NFTNL_EXPR_META_DREG, x.dreg).take();
    case K::MetaSet: return Builder("meta").u32(NFTNL_EXPR_META_KEY, x.key).u32(NFTNL_EXPR_META_SREG, x.sreg).take();
    case K::Payload:
      return Builder("payload")
          .u32(NFTNL_EXPR_PAYLOAD_DREG, x.dreg)
          .u32(NFTNL_EXPR_PAYLOAD_BASE, x.key)
          .u32(NFTNL_EXPR_PAYLOAD_OFFSET, x.offset)
          .u32(NFTNL_EXPR_PAYLOAD_LEN, x.len)
          .take();
    case K::CtLoad: return Builder("ct").u32(NFTNL_EXPR_CT_KEY, x.key).u32(NFTNL_EXPR_CT_DREG, x.dreg).take();
    case K::Cmp:
      return Builder("cmp")
          .u32(NFTNL_EXPR_CMP_SREG, x.sreg)
          .u32(NFTNL_EXPR_CMP_OP, x.key)
          .bytes(NFTNL_EXPR_CMP_DATA, x.data)
          .take();
    case K::Bitwise:
      return Builder("bitwise")
          .u32(NFTNL_EXPR_BITWISE_SREG, x.sreg)
          .u32(NFTNL_EXPR_BITWISE_DREG, x.dreg)
          .u32(NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL)
          .u32(NFTNL_EXPR_BITWISE_LEN, x.len)
          .bytes(NFTNL_EXPR_BITWISE_MASK, x.data)
          .bytes(NFTNL_EXPR_BITWISE_XOR, x.xor_data)
          .take();
    case K::Fib:
      return Builder("fib")
          .u32(NFTNL_EXPR_FIB_DREG, x.dreg)
          .u32(NFTNL_EXPR_FIB_RESULT, x.key)
          .u32(NFTNL_EXPR_FIB_FLAGS, x.flags)
          .take();
    case K::Lookup: {
      // Attributes nft leaves out stay out: no dreg for a plain set, no flags unless inverted.
      Builder b("lookup");
      b.u32(NFTNL_EXPR_LOOKUP_SREG, x.sreg);
      if (x.dreg != kNoReg) b.u32(NFTNL_EXPR_LOOKUP_DREG, x.dreg);
      if (x.flags) b.u32(NFTNL_EXPR_LOOKUP_FLAGS, x.flags);
      return b.str(NFTNL_EXPR_LOOKUP_SET, x.name).take();
    }
    case K::Nat: {
      Builder b("nat");
      b.u32(NFTNL_EXPR_NAT_TYPE, x.key)
          .u32(NFTNL_EXPR_NAT_FAMILY, x.family)
          .u32(NFTNL_EXPR_NAT_REG_ADDR_MIN, x.sreg)
          .u32(NFTNL_EXPR_NAT_REG_PROTO_MIN, x.sreg_proto);
      if (x.flags) b.u32(NFTNL_EXPR_NAT_FLAGS, x.flags);
      return b.take();
    }
    case K::Masq: return Builder("masq").take();
    case K::XtMatch:
      return Builder("match")
          .str(NFTNL_EXPR_MT_NAME, x.name)
          .u32(NFTNL_EXPR_MT_REV, x.key)
          .owned_bytes(NFTNL_EXPR_MT_INFO, x.data)
          .take();
    // iptables-nft sends both counts as 0; nft sends neither (the kernel starts at 0 either way).
    case K::Counter: return Builder("counter").u64(NFTNL_EXPR_CTR_PACKETS, 0).u64(NFTNL_EXPR_CTR_BYTES, 0).take();
    case K::Immediate: {
      Builder b("immediate");
      b.u32(NFTNL_EXPR_IMM_DREG, x.dreg);
      if (!x.verdict) return b.bytes(NFTNL_EXPR_IMM_DATA, x.data).take();
      b.u32(NFTNL_EXPR_IMM_VERDICT, x.key);
      if (!x.name.empty()) b.str(NFTNL_EXPR_IMM_CHAIN, x.name);
      return b.take();
    }
    case K::Unknown: break;
  }
  throw NftError("libnftnl: cannot build an unknown expression", EINVAL);
}

std::uint32_t get_u32(const nftnl_expr* e, std::uint16_t attr) {
  return nftnl_expr_is_set(e, attr) ? nftnl_expr_get_u32(e, attr) : 0;
}

Bytes get_bytes(const nftnl_expr* e, std::uint16_t attr) {
  if (!nftnl_expr_is_set(e, attr)) return {};
  std::uint32_t len = 0;
  const auto* p = static_cast<const std::uint8_t*>(nftnl_expr_get(e, attr, &len));
  return p ? Bytes(p, p + len) : Bytes{};
}

std::string get_str(const nftnl_expr* e, std::uint16_t attr) {
  const char* s = nftnl_expr_is_set(e, attr) ? nftnl_expr_get_str(e, attr) : nullptr;
  return s ? s : "";
}

// A nat expression with one address and one port (max registers absent or equal to min).
bool is_single_nat(const nftnl_expr* e) {
  auto same = [&](std::uint16_t max, std::uint16_t min) {
    return !nftnl_expr_is_set(e, max) || get_u32(e, max) == get_u32(e, min);
  };
  return same(NFTNL_EXPR_NAT_REG_ADDR_MAX, NFTNL_EXPR_NAT_REG_ADDR_MIN) &&
         same(NFTNL_EXPR_NAT_REG_PROTO_MAX, NFTNL_EXPR_NAT_REG_PROTO_MIN);
}

Expr read(const nftnl_expr* e) {
  using K = Expr::Kind;
  Expr x;
  const std::string name = get_str(e, NFTNL_EXPR_NAME);
  x.name = name;  // kept for Unknown; overwritten below where the name field means something else
  if (name == "meta") {
    x.key = get_u32(e, NFTNL_EXPR_META_KEY);
    if (nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
      x.kind = K::MetaLoad;
      x.dreg = get_u32(e, NFTNL_EXPR_META_DREG);
    } else {
      x.kind = K::MetaSet;
      x.sreg = get_u32(e, NFTNL_EXPR_META_SREG);
    }
  } else if (name == "payload" && !nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) {
    x.kind = K::Payload;
    x.dreg = get_u32(e, NFTNL_EXPR_PAYLOAD_DREG);
    x.key = get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
    x.offset = get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
    x.len = get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
  } else if (name == "ct" && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG) && !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR)) {
    x.kind = K::CtLoad;
    x.key = get_u32(e, NFTNL_EXPR_CT_KEY);
    x.dreg = get_u32(e, NFTNL_EXPR_CT_DREG);
  } else if (name == "cmp") {
    x.kind = K::Cmp;
    x.sreg = get_u32(e, NFTNL_EXPR_CMP_SREG);
    x.key = get_u32(e, NFTNL_EXPR_CMP_OP);
    x.data = get_bytes(e, NFTNL_EXPR_CMP_DATA);
  } else if (name == "bitwise" && get_u32(e, NFTNL_EXPR_BITWISE_OP) == NFT_BITWISE_BOOL) {
    x.kind = K::Bitwise;
    x.sreg = get_u32(e, NFTNL_EXPR_BITWISE_SREG);
    x.dreg = get_u32(e, NFTNL_EXPR_BITWISE_DREG);
    x.len = get_u32(e, NFTNL_EXPR_BITWISE_LEN);
    x.data = get_bytes(e, NFTNL_EXPR_BITWISE_MASK);
    x.xor_data = get_bytes(e, NFTNL_EXPR_BITWISE_XOR);
  } else if (name == "fib") {
    x.kind = K::Fib;
    x.dreg = get_u32(e, NFTNL_EXPR_FIB_DREG);
    x.key = get_u32(e, NFTNL_EXPR_FIB_RESULT);
    x.flags = get_u32(e, NFTNL_EXPR_FIB_FLAGS);
  } else if (name == "lookup") {
    x.kind = K::Lookup;
    x.sreg = get_u32(e, NFTNL_EXPR_LOOKUP_SREG);
    x.dreg = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) ? get_u32(e, NFTNL_EXPR_LOOKUP_DREG) : ~0u;
    x.flags = get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS);
    x.name = get_str(e, NFTNL_EXPR_LOOKUP_SET);
  } else if (name == "nat" && is_single_nat(e)) {
    // The kernel reports a single address/port as min == max and adds NF_NAT_RANGE_MAP_IPS;
    // back in the form nft (and compile()) writes.
    x.kind = K::Nat;
    x.key = get_u32(e, NFTNL_EXPR_NAT_TYPE);
    x.family = get_u32(e, NFTNL_EXPR_NAT_FAMILY);
    x.sreg = get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN);
    x.sreg_proto = get_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN);
    x.flags = get_u32(e, NFTNL_EXPR_NAT_FLAGS) & ~static_cast<std::uint32_t>(NF_NAT_RANGE_MAP_IPS);
  } else if (name == "masq" && !nftnl_expr_is_set(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN)) {
    x.kind = K::Masq;
    x.flags = get_u32(e, NFTNL_EXPR_MASQ_FLAGS);
  } else if (name == "match") {
    x.kind = K::XtMatch;
    x.name = get_str(e, NFTNL_EXPR_MT_NAME);
    x.key = get_u32(e, NFTNL_EXPR_MT_REV);
    x.data = get_bytes(e, NFTNL_EXPR_MT_INFO);
  } else if (name == "counter") {
    x.kind = K::Counter;
  } else if (name == "immediate") {
    x.kind = K::Immediate;
    x.dreg = get_u32(e, NFTNL_EXPR_IMM_DREG);
    x.name.clear();
    if (nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
      x.verdict = true;
      x.key = get_u32(e, NFTNL_EXPR_IMM_VERDICT);
      x.name = get_str(e, NFTNL_EXPR_IMM_CHAIN);
    } else {
      x.data = get_bytes(e, NFTNL_EXPR_IMM_DATA);
    }
  } else {
    x.kind = K::Unknown;
    return x;
  }
  if (x.kind != K::Lookup && x.kind != K::Immediate && x.kind != K::XtMatch) x.name.clear();
  return x;
}

}  // namespace

void add_exprs(nftnl_rule* rule, const std::vector<Expr>& exprs) {
  for (const auto& x : exprs) nftnl_rule_add_expr(rule, build(x).release());  // the rule owns it now
}

std::vector<Expr> exprs_of(const nftnl_rule* rule) {
  std::vector<Expr> out;
  struct IterFree {
    void operator()(nftnl_expr_iter* i) const noexcept { nftnl_expr_iter_destroy(i); }
  };
  std::unique_ptr<nftnl_expr_iter, IterFree> it(nftnl_expr_iter_create(rule));
  if (!it) throw NftError("libnftnl: iterate rule expressions", ENOMEM);
  for (nftnl_expr* e = nftnl_expr_iter_next(it.get()); e; e = nftnl_expr_iter_next(it.get())) out.push_back(read(e));
  return out;
}

}  // namespace tether::nftables::detail
