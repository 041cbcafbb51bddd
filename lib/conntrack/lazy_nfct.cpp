// libnetfilter_conntrack, loaded on first use (lib/sys/lazy_lib.hpp says why and from where).
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>

#include "lib/sys/lazy_lib.hpp"

namespace {
constexpr const char* kNfctDeps[] = {"libmnl.so.0", "libnfnetlink.so.0", nullptr};
tether::sys::LazyLib g_nfct{"libnetfilter_conntrack.so.3", kNfctDeps};
}  // namespace

TETHER_LAZY_FWD(g_nfct, struct nfct_handle*, nfct_open, (uint8_t s, unsigned g), (s, g))
TETHER_LAZY_FWD(g_nfct, int, nfct_close, (struct nfct_handle * h), (h))
TETHER_LAZY_FWD(g_nfct, int, nfct_callback_register,
                (struct nfct_handle * h, enum nf_conntrack_msg_type t,
                 int (*cb)(enum nf_conntrack_msg_type, struct nf_conntrack*, void*), void* d),
                (h, t, cb, d))
TETHER_LAZY_FWD(g_nfct, int, nfct_query, (struct nfct_handle * h, const enum nf_conntrack_query q, const void* d),
                (h, q, d))
TETHER_LAZY_FWD(g_nfct, uint8_t, nfct_get_attr_u8, (const struct nf_conntrack* c, const enum nf_conntrack_attr t),
                (c, t))
TETHER_LAZY_FWD(g_nfct, uint16_t, nfct_get_attr_u16, (const struct nf_conntrack* c, const enum nf_conntrack_attr t),
                (c, t))
TETHER_LAZY_FWD(g_nfct, struct nfct_filter_dump*, nfct_filter_dump_create, (void), ())
TETHER_LAZY_FWD(g_nfct, void, nfct_filter_dump_destroy, (struct nfct_filter_dump * f), (f))
TETHER_LAZY_FWD(g_nfct, void, nfct_filter_dump_set_attr_u8,
                (struct nfct_filter_dump * f, const enum nfct_filter_dump_attr t, uint8_t d), (f, t, d))
