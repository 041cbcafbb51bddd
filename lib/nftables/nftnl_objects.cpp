// Our tables, chains, sets, elements and rules -> libnftnl objects (see nftnl_build.hpp).
#include <cstdio>  // libnftnl headers use FILE without including it

#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>

#include "lib/nftables/field_layout.hpp"
#include "lib/nftables/key.hpp"
#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/nftnl_build.hpp"
#include "lib/nftables/udata.hpp"

namespace tether::nftables::detail {

void TableFree::operator()(nftnl_table* p) const noexcept { nftnl_table_free(p); }
void ChainFree::operator()(nftnl_chain* p) const noexcept { nftnl_chain_free(p); }
void SetFree::operator()(nftnl_set* p) const noexcept { nftnl_set_free(p); }
void RuleFree::operator()(nftnl_rule* p) const noexcept { nftnl_rule_free(p); }

namespace {

template <class P>
P checked_alloc(typename P::pointer p, const char* what) {
  if (!p) throw NftError(std::string("libnftnl: allocate ") + what, ENOMEM);
  return P(p);
}

void check(int rc, const char* what) {
  if (rc < 0) throw NftError(std::string("libnftnl: set ") + what, errno ? errno : EINVAL);
}

void check(int rc, const char* what, const Element& e) {
  if (rc < 0)
    throw NftError(std::string("libnftnl: set ") + what + " of element { " + e.label + " } of @" + e.set,
                   errno ? errno : EINVAL);
}

template <class T>
int set_u32(int (*setter)(T*, std::uint16_t, const void*, std::uint32_t), T* obj, std::uint16_t attr, std::uint32_t v) {
  return setter(obj, attr, &v, sizeof v);
}

std::uint32_t hook_number(Hook h) {
  switch (h) {
    case Hook::Prerouting: return NF_INET_PRE_ROUTING;
    case Hook::Input: return NF_INET_LOCAL_IN;
    case Hook::Forward: return NF_INET_FORWARD;
    case Hook::Output: return NF_INET_LOCAL_OUT;
    case Hook::Postrouting: return NF_INET_POST_ROUTING;
  }
  return NF_INET_PRE_ROUTING;
}

}  // namespace

TablePtr new_table() { return checked_alloc<TablePtr>(nftnl_table_alloc(), "table"); }
ChainPtr new_chain() { return checked_alloc<ChainPtr>(nftnl_chain_alloc(), "chain"); }
SetPtr new_set() { return checked_alloc<SetPtr>(nftnl_set_alloc(), "set"); }
RulePtr new_rule() { return checked_alloc<RulePtr>(nftnl_rule_alloc(), "rule"); }

TablePtr table_object(const Table& t, bool with_attributes) {
  TablePtr p = new_table();
  check(nftnl_table_set_str(p.get(), NFTNL_TABLE_NAME, t.name.c_str()), "table name");
  if (with_attributes) {
    check(set_u32(nftnl_table_set_data, p.get(), NFTNL_TABLE_FLAGS, 0), "table flags");
    if (!t.comment.empty()) {
      const Bytes ud = comment_udata(t.comment);
      check(nftnl_table_set_data(p.get(), NFTNL_TABLE_USERDATA, ud.data(), ud.size()), "table comment");
    }
  }
  return p;
}

ChainPtr chain_object(const Chain& c, bool with_attributes) {
  ChainPtr p = new_chain();
  check(nftnl_chain_set_str(p.get(), NFTNL_CHAIN_TABLE, c.table.c_str()), "chain table");
  check(nftnl_chain_set_str(p.get(), NFTNL_CHAIN_NAME, c.name.c_str()), "chain name");
  if (!with_attributes) return p;
  if (c.base) {
    check(set_u32(nftnl_chain_set_data, p.get(), NFTNL_CHAIN_HOOKNUM, hook_number(c.base->hook)), "chain hook");
    const std::int32_t prio = c.base->priority;
    check(nftnl_chain_set_data(p.get(), NFTNL_CHAIN_PRIO, &prio, sizeof prio), "chain priority");
    check(nftnl_chain_set_str(p.get(), NFTNL_CHAIN_TYPE, c.base->type.c_str()), "chain type");
    check(set_u32(nftnl_chain_set_data, p.get(), NFTNL_CHAIN_POLICY, c.base->policy_accept ? NF_ACCEPT : NF_DROP),
          "chain policy");
  }
  if (!c.comment.empty()) {
    const Bytes ud = comment_udata(c.comment);
    check(nftnl_chain_set_data(p.get(), NFTNL_CHAIN_USERDATA, ud.data(), ud.size()), "chain comment");
  }
  return p;
}

SetPtr set_object(const Set& s, std::uint32_t id) {
  SetPtr p = new_set();
  check(nftnl_set_set_str(p.get(), NFTNL_SET_TABLE, s.table.c_str()), "set table");
  check(nftnl_set_set_str(p.get(), NFTNL_SET_NAME, s.name.c_str()), "set name");
  const SetKeyInfo key = set_key_info(s);
  check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_ID, id), "set id");
  check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_FLAGS, key.flags), "set flags");
  check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_KEY_TYPE, key.type), "set key type");
  check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_KEY_LEN, key.len), "set key length");
  if (s.is_map()) {
    check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_DATA_TYPE, key.data_type), "map data type");
    check(set_u32(nftnl_set_set_data, p.get(), NFTNL_SET_DATA_LEN, key.data_len), "map data length");
  }
  if (!key.field_len.empty())  // libnftnl counts the fields up to the first 0: the array ends there
    check(nftnl_set_set_data(p.get(), NFTNL_SET_DESC_CONCAT, key.field_len.data(),
                             static_cast<std::uint32_t>(key.field_len.size())),
          "set field lengths");
  check(nftnl_set_set_data(p.get(), NFTNL_SET_USERDATA, key.udata.data(), key.udata.size()), "set userdata");
  return p;
}

SetPtr element_object(const Element& e, bool with_data) {
  SetPtr set = new_set();
  check(nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, e.table.c_str()), "set table");
  check(nftnl_set_set_str(set.get(), NFTNL_SET_NAME, e.set.c_str()), "set name");
  nftnl_set_elem* raw = nftnl_set_elem_alloc();
  if (!raw) throw NftError("libnftnl: allocate set element", ENOMEM);
  nftnl_set_elem_add(set.get(), raw);  // owned by the set from here on
  check(nftnl_set_elem_set(raw, NFTNL_SET_ELEM_KEY, e.key.data(), e.key.size()), "key", e);
  // An interval element is named by both ends, also when it is deleted or looked up.
  if (!e.key_end.empty())
    check(nftnl_set_elem_set(raw, NFTNL_SET_ELEM_KEY_END, e.key_end.data(), e.key_end.size()), "key end", e);
  if (!with_data) return set;
  if (e.verdict) {
    check(set_u32(nftnl_set_elem_set, raw, NFTNL_SET_ELEM_VERDICT, detail::verdict_code(e.verdict->kind)), "verdict",
          e);
    if (!e.verdict->chain.empty())
      check(nftnl_set_elem_set_str(raw, NFTNL_SET_ELEM_CHAIN, e.verdict->chain.c_str()), "chain", e);
  }
  if (!e.data.empty()) check(nftnl_set_elem_set(raw, NFTNL_SET_ELEM_DATA, e.data.data(), e.data.size()), "data", e);
  if (!e.comment.empty()) {
    const Bytes ud = comment_udata(e.comment);
    check(nftnl_set_elem_set(raw, NFTNL_SET_ELEM_USERDATA, ud.data(), ud.size()), "comment", e);
  }
  return set;
}

RulePtr rule_ref(Family, const std::string& table, const std::string& chain, std::uint64_t handle) {
  RulePtr p = new_rule();
  check(nftnl_rule_set_str(p.get(), NFTNL_RULE_TABLE, table.c_str()), "rule table");
  check(nftnl_rule_set_str(p.get(), NFTNL_RULE_CHAIN, chain.c_str()), "rule chain");
  if (handle) check(nftnl_rule_set_data(p.get(), NFTNL_RULE_HANDLE, &handle, sizeof handle), "rule handle");
  return p;
}

RulePtr rule_object(const Rule& r) {
  RulePtr p = rule_ref(r.family, r.table, r.chain, 0);
  add_exprs(p.get(), compile(r.family, r.statements));
  if (r.xt_compat) {
    check(set_u32(nftnl_rule_set_data, p.get(), NFTNL_RULE_COMPAT_PROTO, 0), "rule compat protocol");
    check(set_u32(nftnl_rule_set_data, p.get(), NFTNL_RULE_COMPAT_FLAGS, 0), "rule compat flags");
  }
  if (!r.comment.empty()) {
    const Bytes ud = comment_udata(r.comment);
    check(nftnl_rule_set_data(p.get(), NFTNL_RULE_USERDATA, ud.data(), ud.size()), "rule comment");
  }
  return p;
}

Bytes udata_of_rule(const nftnl_rule* rule) {
  if (!nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) return {};
  std::uint32_t len = 0;
  const auto* d = static_cast<const std::uint8_t*>(nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len));
  return d ? Bytes(d, d + len) : Bytes{};
}

}  // namespace tether::nftables::detail
