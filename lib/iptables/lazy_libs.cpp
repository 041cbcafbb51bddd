// libip4tc, libip6tc and libnetfilter_conntrack, loaded on first use instead of at process start.
//
// Why: every exec of `tether` used to map and relocate these three libraries (plus libnfnetlink and
// libmnl) before main(), ~0.3 ms per exec on a 2-vCPU VM, although only verbs that touch NAT rules
// need them: VERSION, STATUS, an ADD/CHECK without ipMasq or port mappings and a DEL on a host
// without a nat table never do. So the binary does not link them (no DT_NEEDED); the functions
// tether calls are defined here with the headers' exact prototypes (a mismatch does not compile)
// and forward to the real ones, resolved with dlopen/dlsym on the first call.
//
// Where from: an install's bundled copies in <dir of the executable>/tether.libs first, opened by
// absolute path, else the system's (the loader's usual search). Not through an $ORIGIN DT_RPATH:
// the loader would search it for every library at every start, glibc included (~37 failed
// lookups in tether.libs and its hwcaps subdirectories, ~30 us per exec). A bundled library's own
// dependencies are opened from the bundle first, so the loader finds them loaded by soname.
//
// A library or symbol that cannot be loaded is fatal for the call: it throws tether::Error naming
// the library and dlerror(), which the CNI boundary turns into an error result, the same outcome
// the dynamic loader's refusal to start would have been, minus the verbs that never needed it.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <libiptc/libiptc.h>
extern "C" {  // libip6tc.h 1.8.9 lacks the guard
#include <libiptc/libip6tc.h>
}
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include <string>

#include "lib/util/error.hpp"

namespace tether::iptables {
namespace {

struct Lib {
  const char* soname;
  const char* const* deps = nullptr;  // DT_NEEDED sonames other than glibc's, null-terminated
  void* handle = nullptr;
};
constexpr const char* kNfctDeps[] = {"libmnl.so.0", "libnfnetlink.so.0", nullptr};
Lib g_ip4tc{"libip4tc.so.2"};
Lib g_ip6tc{"libip6tc.so.2"};
Lib g_nfct{"libnetfilter_conntrack.so.3", kNfctDeps};

// "<dir of the executable>/tether.libs/" when that directory exists, else "".
const std::string& bundle_dir() {
  static const std::string dir = [] {
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe);
    if (n <= 0 || n == sizeof exe) return std::string();
    std::string d(exe, static_cast<std::size_t>(n));
    d = d.substr(0, d.rfind('/') + 1) + "tether.libs/";
    return ::access(d.c_str(), X_OK) == 0 ? d : std::string();
  }();
  return dir;
}

void* open_lib(const char* soname) {
  const std::string& dir = bundle_dir();
  if (!dir.empty()) {
    const std::string path = dir + soname;
    if (::access(path.c_str(), R_OK) == 0) return ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  return ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
}

void* resolve(Lib& lib, const char* symbol) {
  // One thread per libiptc handle anyway (table_txn.hpp); dlopen itself is thread-safe and
  // idempotent, so a racing second open only bumps the refcount.
  if (lib.handle == nullptr) {
    for (const char* const* dep = lib.deps; dep && *dep; ++dep) open_lib(*dep);  // a miss shows as lib's failure
    lib.handle = open_lib(lib.soname);
    if (lib.handle == nullptr)
      throw Error(std::string("cannot load ") + lib.soname + " (needed for iptables/conntrack): " + ::dlerror());
  }
  void* fn = ::dlsym(lib.handle, symbol);
  if (fn == nullptr)
    throw Error(std::string("cannot find ") + symbol + " in " + lib.soname + ": " + ::dlerror());
  return fn;
}

}  // namespace
}  // namespace tether::iptables

// FWD(lib, return type, name, (parameters), (arguments)): defines `name` with the header's
// signature, resolving the real function once.
#define TETHER_FWD(lib, ret, name, params, args)                                                        \
  extern "C" ret name params {                                                                          \
    static const auto real = reinterpret_cast<decltype(&::name)>(tether::iptables::resolve(lib, #name)); \
    return real args;                                                                                   \
  }

using tether::iptables::g_ip4tc;
using tether::iptables::g_ip6tc;
using tether::iptables::g_nfct;

// libip4tc
TETHER_FWD(g_ip4tc, struct xtc_handle*, iptc_init, (const char* t), (t))
TETHER_FWD(g_ip4tc, void, iptc_free, (struct xtc_handle * h), (h))
TETHER_FWD(g_ip4tc, int, iptc_commit, (struct xtc_handle * h), (h))
TETHER_FWD(g_ip4tc, const char*, iptc_strerror, (int e), (e))
TETHER_FWD(g_ip4tc, int, iptc_is_chain, (const char* c, struct xtc_handle* const h), (c, h))
TETHER_FWD(g_ip4tc, int, iptc_create_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip4tc, int, iptc_delete_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip4tc, int, iptc_flush_entries, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip4tc, int, iptc_get_references, (unsigned int* r, const xt_chainlabel c, struct xtc_handle* h),
           (r, c, h))
TETHER_FWD(g_ip4tc, const struct ipt_entry*, iptc_first_rule, (const char* c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip4tc, const struct ipt_entry*, iptc_next_rule, (const struct ipt_entry* p, struct xtc_handle* h),
           (p, h))
TETHER_FWD(g_ip4tc, const char*, iptc_get_target, (const struct ipt_entry* e, struct xtc_handle* h), (e, h))
TETHER_FWD(g_ip4tc, int, iptc_insert_entry,
           (const xt_chainlabel c, const struct ipt_entry* e, unsigned int n, struct xtc_handle* h), (c, e, n, h))
TETHER_FWD(g_ip4tc, int, iptc_append_entry, (const xt_chainlabel c, const struct ipt_entry* e, struct xtc_handle* h),
           (c, e, h))
TETHER_FWD(g_ip4tc, int, iptc_check_entry,
           (const xt_chainlabel c, const struct ipt_entry* e, unsigned char* m, struct xtc_handle* h), (c, e, m, h))
TETHER_FWD(g_ip4tc, int, iptc_delete_num_entry, (const xt_chainlabel c, unsigned int n, struct xtc_handle* h),
           (c, n, h))

// libip6tc
TETHER_FWD(g_ip6tc, struct xtc_handle*, ip6tc_init, (const char* t), (t))
TETHER_FWD(g_ip6tc, void, ip6tc_free, (struct xtc_handle * h), (h))
TETHER_FWD(g_ip6tc, int, ip6tc_commit, (struct xtc_handle * h), (h))
TETHER_FWD(g_ip6tc, const char*, ip6tc_strerror, (int e), (e))
TETHER_FWD(g_ip6tc, int, ip6tc_is_chain, (const char* c, struct xtc_handle* const h), (c, h))
TETHER_FWD(g_ip6tc, int, ip6tc_create_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip6tc, int, ip6tc_delete_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip6tc, int, ip6tc_flush_entries, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip6tc, int, ip6tc_get_references, (unsigned int* r, const xt_chainlabel c, struct xtc_handle* h),
           (r, c, h))
TETHER_FWD(g_ip6tc, const struct ip6t_entry*, ip6tc_first_rule, (const char* c, struct xtc_handle* h), (c, h))
TETHER_FWD(g_ip6tc, const struct ip6t_entry*, ip6tc_next_rule,
           (const struct ip6t_entry* p, struct xtc_handle* h), (p, h))
TETHER_FWD(g_ip6tc, const char*, ip6tc_get_target, (const struct ip6t_entry* e, struct xtc_handle* h), (e, h))
TETHER_FWD(g_ip6tc, int, ip6tc_insert_entry,
           (const xt_chainlabel c, const struct ip6t_entry* e, unsigned int n, struct xtc_handle* h), (c, e, n, h))
TETHER_FWD(g_ip6tc, int, ip6tc_append_entry,
           (const xt_chainlabel c, const struct ip6t_entry* e, struct xtc_handle* h), (c, e, h))
TETHER_FWD(g_ip6tc, int, ip6tc_check_entry,
           (const xt_chainlabel c, const struct ip6t_entry* e, unsigned char* m, struct xtc_handle* h), (c, e, m, h))
TETHER_FWD(g_ip6tc, int, ip6tc_delete_num_entry, (const xt_chainlabel c, unsigned int n, struct xtc_handle* h),
           (c, n, h))

// libnetfilter_conntrack
TETHER_FWD(g_nfct, struct nfct_handle*, nfct_open, (uint8_t s, unsigned g), (s, g))
TETHER_FWD(g_nfct, int, nfct_close, (struct nfct_handle * h), (h))
TETHER_FWD(g_nfct, int, nfct_callback_register,
           (struct nfct_handle * h, enum nf_conntrack_msg_type t,
            int (*cb)(enum nf_conntrack_msg_type, struct nf_conntrack*, void*), void* d),
           (h, t, cb, d))
TETHER_FWD(g_nfct, int, nfct_query, (struct nfct_handle * h, const enum nf_conntrack_query q, const void* d), (h, q, d))
TETHER_FWD(g_nfct, uint8_t, nfct_get_attr_u8, (const struct nf_conntrack* c, const enum nf_conntrack_attr t), (c, t))
TETHER_FWD(g_nfct, uint16_t, nfct_get_attr_u16, (const struct nf_conntrack* c, const enum nf_conntrack_attr t),
           (c, t))
TETHER_FWD(g_nfct, struct nfct_filter_dump*, nfct_filter_dump_create, (void), ())
TETHER_FWD(g_nfct, void, nfct_filter_dump_destroy, (struct nfct_filter_dump * f), (f))
TETHER_FWD(g_nfct, void, nfct_filter_dump_set_attr_u8,
           (struct nfct_filter_dump * f, const enum nfct_filter_dump_attr t, uint8_t d), (f, t, d))
