// libmnl, loaded on first use (lib/sys/lazy_lib.hpp says why and from where). libnftnl itself is
// linked statically, but Debian ships libmnl only as a shared library: its functions, called by
// our code and by libnftnl's, are defined here with libmnl.h's exact prototypes and forwarded.
// Each one libnftnl or lib/nftables uses must be listed (a missing one fails the link).
#include <libmnl/libmnl.h>

#include "lib/sys/lazy_lib.hpp"

namespace {
tether::sys::LazyLib g_mnl{"libmnl.so.0"};
}  // namespace

TETHER_LAZY_FWD(g_mnl, void*, mnl_attr_get_payload, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint16_t, mnl_attr_get_payload_len, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, const char*, mnl_attr_get_str, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint16_t, mnl_attr_get_type, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint16_t, mnl_attr_get_u16, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint32_t, mnl_attr_get_u32, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint64_t, mnl_attr_get_u64, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, uint8_t, mnl_attr_get_u8, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_nest_end, (struct nlmsghdr * n, struct nlattr* s), (n, s))
TETHER_LAZY_FWD(g_mnl, struct nlattr*, mnl_attr_nest_start, (struct nlmsghdr * n, uint16_t t), (n, t))
TETHER_LAZY_FWD(g_mnl, struct nlattr*, mnl_attr_next, (const struct nlattr* a), (a))
TETHER_LAZY_FWD(g_mnl, bool, mnl_attr_ok, (const struct nlattr* a, int l), (a, l))
TETHER_LAZY_FWD(g_mnl, int, mnl_attr_parse, (const struct nlmsghdr* n, unsigned int o, mnl_attr_cb_t cb, void* d),
                (n, o, cb, d))
TETHER_LAZY_FWD(g_mnl, int, mnl_attr_parse_nested, (const struct nlattr* a, mnl_attr_cb_t cb, void* d), (a, cb, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put, (struct nlmsghdr * n, uint16_t t, size_t l, const void* d), (n, t, l, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_str, (struct nlmsghdr * n, uint16_t t, const char* d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_strz, (struct nlmsghdr * n, uint16_t t, const char* d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_u16, (struct nlmsghdr * n, uint16_t t, uint16_t d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_u32, (struct nlmsghdr * n, uint16_t t, uint32_t d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_u64, (struct nlmsghdr * n, uint16_t t, uint64_t d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, void, mnl_attr_put_u8, (struct nlmsghdr * n, uint16_t t, uint8_t d), (n, t, d))
TETHER_LAZY_FWD(g_mnl, int, mnl_attr_type_valid, (const struct nlattr* a, uint16_t m), (a, m))
TETHER_LAZY_FWD(g_mnl, int, mnl_attr_validate, (const struct nlattr* a, enum mnl_attr_data_type t), (a, t))
TETHER_LAZY_FWD(g_mnl, int, mnl_cb_run, (const void* b, size_t n, unsigned int s, unsigned int p, mnl_cb_t cb, void* d),
                (b, n, s, p, cb, d))
TETHER_LAZY_FWD(g_mnl, void*, mnl_nlmsg_batch_current, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, void*, mnl_nlmsg_batch_head, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, bool, mnl_nlmsg_batch_is_empty, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, bool, mnl_nlmsg_batch_next, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, size_t, mnl_nlmsg_batch_size, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, struct mnl_nlmsg_batch*, mnl_nlmsg_batch_start, (void* b, size_t s), (b, s))
TETHER_LAZY_FWD(g_mnl, void, mnl_nlmsg_batch_stop, (struct mnl_nlmsg_batch * b), (b))
TETHER_LAZY_FWD(g_mnl, void*, mnl_nlmsg_get_payload, (const struct nlmsghdr* n), (n))
TETHER_LAZY_FWD(g_mnl, struct nlmsghdr*, mnl_nlmsg_next, (const struct nlmsghdr* n, int* l), (n, l))
TETHER_LAZY_FWD(g_mnl, bool, mnl_nlmsg_ok, (const struct nlmsghdr* n, int l), (n, l))
TETHER_LAZY_FWD(g_mnl, void*, mnl_nlmsg_put_extra_header, (struct nlmsghdr * n, size_t s), (n, s))
TETHER_LAZY_FWD(g_mnl, struct nlmsghdr*, mnl_nlmsg_put_header, (void* b), (b))
TETHER_LAZY_FWD(g_mnl, int, mnl_socket_bind, (struct mnl_socket * s, unsigned int g, pid_t p), (s, g, p))
TETHER_LAZY_FWD(g_mnl, int, mnl_socket_close, (struct mnl_socket * s), (s))
TETHER_LAZY_FWD(g_mnl, int, mnl_socket_get_fd, (const struct mnl_socket* s), (s))
TETHER_LAZY_FWD(g_mnl, unsigned int, mnl_socket_get_portid, (const struct mnl_socket* s), (s))
TETHER_LAZY_FWD(g_mnl, struct mnl_socket*, mnl_socket_open, (int b), (b))
TETHER_LAZY_FWD(g_mnl, struct mnl_socket*, mnl_socket_open2, (int b, int f), (b, f))
TETHER_LAZY_FWD(g_mnl, ssize_t, mnl_socket_recvfrom, (const struct mnl_socket* s, void* b, size_t n), (s, b, n))
TETHER_LAZY_FWD(g_mnl, ssize_t, mnl_socket_sendto, (const struct mnl_socket* s, const void* r, size_t n), (s, r, n))
TETHER_LAZY_FWD(g_mnl, int, mnl_socket_setsockopt, (const struct mnl_socket* s, int t, void* b, socklen_t l),
                (s, t, b, l))
