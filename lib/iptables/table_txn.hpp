#pragma once
// One libiptc transaction on one table of one family, in the netns current at construction:
// iptc_init (snapshot of the whole table) -> staged changes -> at most one commit -> iptc_free.
// The handle is bound to the netns of the init and cannot be reused after a commit, so this type
// is neither copyable nor reusable. The caller holds the XtablesLock (xtables_lock.hpp) from
// before construction until after commit() when it intends to write; a lock-less instance is a
// read-only snapshot. libiptc is not thread-safe: one TableTxn per thread.
#include <functional>
#include <memory>
#include <string>

#include "lib/iptables/entry_buffer.hpp"
#include "lib/iptables/rule_parse.hpp"
#include "lib/net/ip.hpp"

namespace tether::iptables {

class TableTxn {
 public:
  // One rule as seen during for_each_rule(); `target` and the views in `parsed` point into
  // libiptc's cache and are valid only inside the callback.
  struct RuleRef {
    unsigned position = 0;  // 0-based, as libiptc numbers them
    const char* target;     // "MASQUERADE", "DNAT", "RETURN", a chain name, ...
    ParsedRule parsed;
  };

  // Throws tether::Error naming table and family (EPERM without CAP_NET_ADMIN/RAW, ENOENT when the
  // table does not exist and cannot be loaded). NB: creates the table in a netns that had none.
  TableTxn(net::Family family, const std::string& table);
  ~TableTxn();
  TableTxn(const TableTxn&) = delete;
  TableTxn& operator=(const TableTxn&) = delete;

  bool is_chain(const std::string& chain) const;
  void create_chain(const std::string& chain);
  void flush_chain(const std::string& chain);
  void delete_chain(const std::string& chain);  // must be empty and unreferenced
  unsigned references(const std::string& chain) const;
  void insert(const std::string& chain, const EntryBuffer& entry, unsigned position);
  void append(const std::string& chain, const EntryBuffer& entry);
  void delete_num(const std::string& chain, unsigned position);
  bool contains(const std::string& chain, const EntryBuffer& entry) const;  // exact byte match
  // Visits the rules of `chain` (staged changes included) in order; none if the chain is missing.
  // Do not mutate the table from the callback: collect positions, then delete highest first.
  void for_each_rule(const std::string& chain, const std::function<void(const RuleRef&)>& fn) const;

  // No-op when nothing was staged. Throws tether::Error: code 11 on EAGAIN (the table changed
  // under us: a writer that ignores the lock), else 999 with libiptc's reason.
  void commit();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::iptables
