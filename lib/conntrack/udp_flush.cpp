#include "lib/conntrack/udp_flush.hpp"

#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "lib/sys/unique_fd.hpp"
#include "lib/util/error.hpp"

namespace tether::conntrack {
namespace {

struct HandleCloser {
  void operator()(nfct_handle* h) const noexcept { nfct_close(h); }
};
using Handle = std::unique_ptr<nfct_handle, HandleCloser>;
struct FilterDestroyer {
  void operator()(nfct_filter_dump* f) const noexcept { nfct_filter_dump_destroy(f); }
};

Handle open_handle() {
  Handle h(nfct_open(CONNTRACK, 0));
  if (!h) throw Error(std::string("conntrack: open ctnetlink: ") + std::strerror(errno));
  return h;
}

struct Ctx {
  const std::vector<std::uint16_t>* ports;
  nfct_handle* destroyer;  // the dumping handle is busy: deletes go through a second one
  std::size_t deleted = 0;
};

int on_entry(enum nf_conntrack_msg_type, struct nf_conntrack* ct, void* data) {
  auto* ctx = static_cast<Ctx*>(data);
  if (nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO) != IPPROTO_UDP) return NFCT_CB_CONTINUE;
  const std::uint16_t port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
  if (std::find(ctx->ports->begin(), ctx->ports->end(), port) == ctx->ports->end()) return NFCT_CB_CONTINUE;
  if (nfct_query(ctx->destroyer, NFCT_Q_DESTROY, ct) == 0) ++ctx->deleted;  // ENOENT: already gone
  return NFCT_CB_CONTINUE;
}

// A ctnetlink dump walks the whole (host-global, 262,144-bucket here) conntrack hash: ~3 ms even
// when empty. The per-netns entry count is one read; zero entries means nothing can be stale.
bool netns_has_conntrack_entries() {
  sys::UniqueFd fd(::open("/proc/sys/net/netfilter/nf_conntrack_count", O_RDONLY | O_CLOEXEC));
  if (!fd) return errno != ENOENT;  // no conntrack at all: no entries; unreadable: assume some
  char buf[32] = {};
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  return n <= 0 || buf[0] != '0';
}

}  // namespace

std::size_t delete_udp_conntrack(net::Family family, const std::vector<std::uint16_t>& ports) {
  if (ports.empty() || !netns_has_conntrack_entries()) return 0;
  Handle dumper = open_handle();
  Handle destroyer = open_handle();
  Ctx ctx{&ports, destroyer.get()};
  nfct_callback_register(dumper.get(), NFCT_T_ALL, on_entry, &ctx);
  std::unique_ptr<nfct_filter_dump, FilterDestroyer> filter(nfct_filter_dump_create());
  if (!filter) throw Error("conntrack: out of memory");
  nfct_filter_dump_set_attr_u8(filter.get(), NFCT_FILTER_DUMP_L3NUM, family == net::Family::V4 ? AF_INET : AF_INET6);
  if (nfct_query(dumper.get(), NFCT_Q_DUMP_FILTER, filter.get()) != 0)
    throw Error(std::string("conntrack: dump: ") + std::strerror(errno));
  return ctx.deleted;
}

}  // namespace tether::conntrack
