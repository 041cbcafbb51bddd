#pragma once
// Internal to lib/nftables: our object types <-> libnftnl objects. Only the C types are declared
// here; libnftnl's headers stay in the .cpp files. Every libnftnl object is owned by a unique_ptr
// from the moment it is allocated; every setter's return is checked (libnftnl >= 1.2.7 refuses
// unknown attributes and bad lengths with -1).
#include <memory>
#include <vector>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/objects.hpp"

struct nftnl_table;
struct nftnl_chain;
struct nftnl_set;
struct nftnl_set_elem;
struct nftnl_rule;

namespace tether::nftables::detail {

struct TableFree {
  void operator()(nftnl_table*) const noexcept;
};
struct ChainFree {
  void operator()(nftnl_chain*) const noexcept;
};
struct SetFree {
  void operator()(nftnl_set*) const noexcept;
};
struct RuleFree {
  void operator()(nftnl_rule*) const noexcept;
};
using TablePtr = std::unique_ptr<nftnl_table, TableFree>;
using ChainPtr = std::unique_ptr<nftnl_chain, ChainFree>;
using SetPtr = std::unique_ptr<nftnl_set, SetFree>;
using RulePtr = std::unique_ptr<nftnl_rule, RuleFree>;

TablePtr new_table();
ChainPtr new_chain();
SetPtr new_set();
RulePtr new_rule();

// Builders (messages to the kernel).
TablePtr table_object(const Table& t, bool with_attributes);  // false: name only (delete, get)
ChainPtr chain_object(const Chain& c, bool with_attributes);
// `id`: NFTA_SET_ID, which the kernel requires on NEWSET (unique within the batch).
SetPtr set_object(const Set& s, std::uint32_t id);
// The set (table + name) holding one element; with_data: verdict + comment too.
SetPtr element_object(const Element& e, bool with_data);
RulePtr rule_object(const Rule& r);  // new rule (expressions + comment)
RulePtr rule_ref(Family f, const std::string& table, const std::string& chain,
                 std::uint64_t handle);  // 0 = whole chain

// Readers (messages from the kernel).
void add_exprs(nftnl_rule* rule, const std::vector<Expr>& exprs);
std::vector<Expr> exprs_of(const nftnl_rule* rule);  // unknown expressions -> Kind::Unknown
Bytes udata_of_rule(const nftnl_rule* rule);

}  // namespace tether::nftables::detail
