#pragma once
// Reading tether's objects back from the kernel. Absent objects are nullopt/empty, never errors;
// other kernel errors throw NftError. Lookups of one object are single requests (O(1)); list_*
// dump (O(objects)).
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/nftables/objects.hpp"
#include "lib/nftables/statement.hpp"

namespace tether::nftables {

class Socket;

std::optional<TableInfo> get_table(Socket& sock, Family f, const std::string& name);
// Which tables exist, in every family: one dump answers what a get_table() per table would.
struct TableNames {
  std::vector<std::pair<Family, std::string>> names;
  bool has(Family f, std::string_view name) const;
};
TableNames list_tables(Socket& sock);
// nullopt when the chain (or its table) does not exist.
std::optional<Chain> get_chain(Socket& sock, Family f, const std::string& table, const std::string& name);
// Every chain of the table (the kernel dumps the family's chains; filtered here).
std::vector<Chain> list_chains(Socket& sock, Family f, const std::string& table);

struct RuleInfo {
  std::uint64_t handle = 0;
  // nft's comment (the rule's userdata) or, for a rule iptables-nft wrote, its `-m comment` text.
  std::string comment;
  // The rule as statements; nullopt when it is not a shape lib/nftables writes.
  std::optional<std::vector<Statement>> statements;
  // The verdict of a rule ending in one (also when the rest has no statements): jumps to a
  // chain are found in rules of any shape.
  std::optional<Verdict> verdict;
};
// The rules of one chain in order (empty when the chain or its table does not exist). Works on
// any table: iptables-nft's included.
std::vector<RuleInfo> list_rules(Socket& sock, Family f, const std::string& table, const std::string& chain);

struct ElementInfo {
  Bytes key;
  Bytes key_end;  // interval sets
  std::optional<Verdict> verdict;
  Bytes data;  // data maps
  std::string comment;
};
// One element by key (NFT_MSG_GETSETELEM without dump); nullopt when the key (or set) is absent.
// In an interval set the answer is the element whose range holds `key`.
std::optional<ElementInfo> get_element(Socket& sock, Family f, const std::string& table, const std::string& set,
                                       const Bytes& key);
// The same for `ref` (family, table, set, key, key_end are read).
std::optional<ElementInfo> get_element(Socket& sock, const Element& ref);
// Every element of a set (empty when the set or its table does not exist): a dump, O(elements).
std::vector<ElementInfo> list_elements(Socket& sock, Family f, const std::string& table, const std::string& set);

// One element of a dump, without copies: the views are valid during the callback only.
struct ElementView {
  std::span<const std::uint8_t> key, key_end, data;
  std::string_view comment;
};
// The same dump as list_elements, element by element. `on_restart` runs before the dump starts
// over (the ruleset changed while it ran: whatever was seen so far is to be forgotten).
void for_each_element(Socket& sock, Family f, const std::string& table, const std::string& set,
                      const std::function<void(const ElementView&)>& on_element,
                      const std::function<void()>& on_restart);
// Whether a set/map of that name exists.
bool has_set(Socket& sock, Family f, const std::string& table, const std::string& set);

// True when this kernel (in the current netns) speaks nf_tables: one GETGEN request, nothing is
// created. Throws NftError for EPERM (the caller lacks CAP_NET_ADMIN: that says nothing about the
// kernel, and guessing "no" is how CNI's portmap picks the wrong backend, plugins#1280).
bool kernel_has_nftables();

}  // namespace tether::nftables
