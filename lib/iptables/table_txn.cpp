// libiptc glue. libip4tc and libip6tc have identical APIs with different prefixes and entry types,
// both typed `struct xtc_handle*`; Ops keeps each handle with its own family's functions.
#include "lib/iptables/table_txn.hpp"

#include <libiptc/libiptc.h>
extern "C" {  // libip6tc.h 1.8.9 lacks the guard
#include <libiptc/libip6tc.h>
}

#include <cerrno>
#include <string>

#include "lib/util/error.hpp"
#include "lib/util/fault.hpp"

namespace tether::iptables {
namespace {

struct Ops {
  const char* name;
  xtc_handle* (*init)(const char*);
  void (*free)(xtc_handle*);
  int (*commit)(xtc_handle*);
  const char* (*strerror)(int);
  int (*is_chain)(const char*, xtc_handle*);
  int (*create_chain)(const char*, xtc_handle*);
  int (*flush_entries)(const char*, xtc_handle*);
  int (*delete_chain)(const char*, xtc_handle*);
  int (*get_references)(unsigned*, const char*, xtc_handle*);
  int (*insert_entry)(const char*, const void*, unsigned, xtc_handle*);
  int (*append_entry)(const char*, const void*, xtc_handle*);
  int (*delete_num_entry)(const char*, unsigned, xtc_handle*);
  int (*check_entry)(const char*, const void*, unsigned char*, xtc_handle*);
  const void* (*first_rule)(const char*, xtc_handle*);
  const void* (*next_rule)(const void*, xtc_handle*);
  const char* (*get_target)(const void*, xtc_handle*);
};

#define TETHER_IPTC_OPS(P, ENTRY)                                                                      \
  Ops {                                                                                                \
#P, [](const char* t) { return P##_init(t); }, [](xtc_handle* h) { P##_free(h); },                   \
        [](xtc_handle* h) { return P##_commit(h); }, [](int e) { return P##_strerror(e); },                \
        [](const char* c, xtc_handle* h) { return P##_is_chain(c, h); },                                   \
        [](const char* c, xtc_handle* h) { return P##_create_chain(c, h); },                               \
        [](const char* c, xtc_handle* h) { return P##_flush_entries(c, h); },                              \
        [](const char* c, xtc_handle* h) { return P##_delete_chain(c, h); },                               \
        [](unsigned* r, const char* c, xtc_handle* h) { return P##_get_references(r, c, h); },             \
        [](const char* c, const void* e, unsigned n, xtc_handle* h) {                                      \
          return P##_insert_entry(c, static_cast<const ENTRY*>(e), n, h);                                  \
        },                                                                                                 \
        [](const char* c, const void* e, xtc_handle* h) {                                                  \
          return P##_append_entry(c, static_cast<const ENTRY*>(e), h);                                     \
        },                                                                                                 \
        [](const char* c, unsigned n, xtc_handle* h) { return P##_delete_num_entry(c, n, h); },            \
        [](const char* c, const void* e, unsigned char* m, xtc_handle* h) {                                \
          return P##_check_entry(c, static_cast<const ENTRY*>(e), m, h);                                   \
        },                                                                                                 \
        [](const char* c, xtc_handle* h) -> const void* { return P##_first_rule(c, h); },                  \
        [](const void* p, xtc_handle* h) -> const void* {                                                  \
          return P##_next_rule(static_cast<const ENTRY*>(p), h);                                           \
        },                                                                                                 \
        [](const void* e, xtc_handle* h) { return P##_get_target(static_cast<const ENTRY*>(e), h); }, \
  }

const Ops kV4 = TETHER_IPTC_OPS(iptc, ipt_entry);
const Ops kV6 = TETHER_IPTC_OPS(ip6tc, ip6t_entry);
#undef TETHER_IPTC_OPS

}  // namespace

struct TableTxn::Impl {
  net::Family family;
  std::string table;
  const Ops* ops;
  xtc_handle* handle = nullptr;
  bool dirty = false;
  bool committed = false;

  std::string where() const { return "iptables " + table + " (" + (family == net::Family::V4 ? "v4" : "v6") + ")"; }

  // libiptc's message depends on its last internal call: read it and errno immediately.
  [[noreturn]] void fail(const std::string& op, int code = 0) const {
    const int err = errno;
    std::string msg = where() + ": " + op + ": " + ops->strerror(err) + " (errno " + std::to_string(err) + ")";
    if (code == 0 && err == EAGAIN) code = kTryAgainLater;
    throw Error(msg, code);
  }
  void mutate(const std::string& op, int rc) {
    if (rc == 0) fail(op);
    dirty = true;
  }
};

TableTxn::TableTxn(net::Family family, const std::string& table)
    : impl_(std::make_unique<Impl>(Impl{family, table, family == net::Family::V4 ? &kV4 : &kV6})) {
  impl_->handle = impl_->ops->init(table.c_str());
  if (impl_->handle == nullptr) impl_->fail("init");
}

TableTxn::~TableTxn() {
  if (impl_ && impl_->handle != nullptr) impl_->ops->free(impl_->handle);  // discards staged changes
}

bool TableTxn::is_chain(const std::string& chain) const {
  return impl_->ops->is_chain(chain.c_str(), impl_->handle) != 0;
}

void TableTxn::create_chain(const std::string& chain) {
  impl_->mutate("create chain '" + chain + "'", impl_->ops->create_chain(chain.c_str(), impl_->handle));
}

void TableTxn::flush_chain(const std::string& chain) {
  impl_->mutate("flush chain '" + chain + "'", impl_->ops->flush_entries(chain.c_str(), impl_->handle));
}

void TableTxn::delete_chain(const std::string& chain) {
  impl_->mutate("delete chain '" + chain + "'", impl_->ops->delete_chain(chain.c_str(), impl_->handle));
}

unsigned TableTxn::references(const std::string& chain) const {
  unsigned refs = 0;
  if (impl_->ops->get_references(&refs, chain.c_str(), impl_->handle) == 0)
    impl_->fail("count references to '" + chain + "'");
  return refs;
}

void TableTxn::insert(const std::string& chain, const EntryBuffer& entry, unsigned position) {
  impl_->mutate("insert rule into '" + chain + "' at " + std::to_string(position),
                impl_->ops->insert_entry(chain.c_str(), entry.data(), position, impl_->handle));
}

void TableTxn::append(const std::string& chain, const EntryBuffer& entry) {
  impl_->mutate("append rule to '" + chain + "'", impl_->ops->append_entry(chain.c_str(), entry.data(), impl_->handle));
}

void TableTxn::delete_num(const std::string& chain, unsigned position) {
  impl_->mutate("delete rule " + std::to_string(position) + " of '" + chain + "'",
                impl_->ops->delete_num_entry(chain.c_str(), position, impl_->handle));
}

bool TableTxn::contains(const std::string& chain, const EntryBuffer& entry) const {
  // An all-0xFF mask compares every payload byte: none of our extensions has kernel-private bytes.
  std::vector<unsigned char> mask(entry.size(), 0xff);
  errno = 0;
  if (impl_->ops->check_entry(chain.c_str(), entry.data(), mask.data(), impl_->handle) != 0) return true;
  if (errno == ENOENT) return false;  // no such rule (or no such chain)
  impl_->fail("check rule in '" + chain + "'");
}

void TableTxn::for_each_rule(const std::string& chain, const std::function<void(const RuleRef&)>& fn) const {
  if (!is_chain(chain)) return;
  // One rule cursor per handle: never nest two of these loops, never mutate inside one.
  unsigned pos = 0;
  for (const void* e = impl_->ops->first_rule(chain.c_str(), impl_->handle); e != nullptr;
       e = impl_->ops->next_rule(e, impl_->handle), ++pos) {
    const char* target = impl_->ops->get_target(e, impl_->handle);
    fn(RuleRef{pos, target != nullptr ? target : "", parse_entry(impl_->family, e)});
  }
}

void TableTxn::commit() {
  if (impl_->committed) throw Error(impl_->where() + ": commit called twice on one transaction");
  if (!impl_->dirty) return;
  fault::point("iptables: commit");
  impl_->committed = true;
  if (impl_->ops->commit(impl_->handle) == 0) impl_->fail("commit");
}

}  // namespace tether::iptables
