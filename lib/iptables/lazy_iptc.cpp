// libip4tc and libip6tc, loaded on first use (lib/sys/lazy_lib.hpp says why and from where).
#include <libiptc/libiptc.h>
extern "C" {  // libip6tc.h 1.8.9 lacks the guard
#include <libiptc/libip6tc.h>
}

#include "lib/sys/lazy_lib.hpp"

namespace {
tether::sys::LazyLib g_ip4tc{"libip4tc.so.2"};
tether::sys::LazyLib g_ip6tc{"libip6tc.so.2"};
}  // namespace

// libip4tc
TETHER_LAZY_FWD(g_ip4tc, struct xtc_handle*, iptc_init, (const char* t), (t))
TETHER_LAZY_FWD(g_ip4tc, void, iptc_free, (struct xtc_handle * h), (h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_commit, (struct xtc_handle * h), (h))
TETHER_LAZY_FWD(g_ip4tc, const char*, iptc_strerror, (int e), (e))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_is_chain, (const char* c, struct xtc_handle* const h), (c, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_create_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_delete_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_flush_entries, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_get_references, (unsigned int* r, const xt_chainlabel c, struct xtc_handle* h),
                (r, c, h))
TETHER_LAZY_FWD(g_ip4tc, const struct ipt_entry*, iptc_first_rule, (const char* c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip4tc, const struct ipt_entry*, iptc_next_rule, (const struct ipt_entry* p, struct xtc_handle* h),
                (p, h))
TETHER_LAZY_FWD(g_ip4tc, const char*, iptc_get_target, (const struct ipt_entry* e, struct xtc_handle* h), (e, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_insert_entry,
                (const xt_chainlabel c, const struct ipt_entry* e, unsigned int n, struct xtc_handle* h), (c, e, n, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_append_entry,
                (const xt_chainlabel c, const struct ipt_entry* e, struct xtc_handle* h), (c, e, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_check_entry,
                (const xt_chainlabel c, const struct ipt_entry* e, unsigned char* m, struct xtc_handle* h),
                (c, e, m, h))
TETHER_LAZY_FWD(g_ip4tc, int, iptc_delete_num_entry, (const xt_chainlabel c, unsigned int n, struct xtc_handle* h),
                (c, n, h))

// libip6tc
TETHER_LAZY_FWD(g_ip6tc, struct xtc_handle*, ip6tc_init, (const char* t), (t))
TETHER_LAZY_FWD(g_ip6tc, void, ip6tc_free, (struct xtc_handle * h), (h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_commit, (struct xtc_handle * h), (h))
TETHER_LAZY_FWD(g_ip6tc, const char*, ip6tc_strerror, (int e), (e))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_is_chain, (const char* c, struct xtc_handle* const h), (c, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_create_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_delete_chain, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_flush_entries, (const xt_chainlabel c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_get_references, (unsigned int* r, const xt_chainlabel c, struct xtc_handle* h),
                (r, c, h))
TETHER_LAZY_FWD(g_ip6tc, const struct ip6t_entry*, ip6tc_first_rule, (const char* c, struct xtc_handle* h), (c, h))
TETHER_LAZY_FWD(g_ip6tc, const struct ip6t_entry*, ip6tc_next_rule, (const struct ip6t_entry* p, struct xtc_handle* h),
                (p, h))
TETHER_LAZY_FWD(g_ip6tc, const char*, ip6tc_get_target, (const struct ip6t_entry* e, struct xtc_handle* h), (e, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_insert_entry,
                (const xt_chainlabel c, const struct ip6t_entry* e, unsigned int n, struct xtc_handle* h), (c, e, n, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_append_entry,
                (const xt_chainlabel c, const struct ip6t_entry* e, struct xtc_handle* h), (c, e, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_check_entry,
                (const xt_chainlabel c, const struct ip6t_entry* e, unsigned char* m, struct xtc_handle* h),
                (c, e, m, h))
TETHER_LAZY_FWD(g_ip6tc, int, ip6tc_delete_num_entry, (const xt_chainlabel c, unsigned int n, struct xtc_handle* h),
                (c, n, h))
