#include "lib/nftables/socket.hpp"

#include <cstdio>  // libnftnl headers use FILE without including it

#include <libmnl/libmnl.h>
#include <libnftnl/gen.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

#include "lib/nftables/nft_error.hpp"

namespace tether::nftables {

struct Socket::Mnl {
  mnl_socket* sock = nullptr;
  ~Mnl() {
    if (sock) mnl_socket_close(sock);
  }
};

namespace {
// Large enough for any datagram the kernel sends us (it sizes dump skbs up to the largest
// receive buffer it has seen, and never beyond 32 KiB).
constexpr std::size_t kRecvBuf = 64 * 1024;
// Default socket buffers are ~208 KiB; an ack costs ~1 KiB of receive buffer (skb overhead).
constexpr std::size_t kDefaultBuf = 160 * 1024;
constexpr std::size_t kAckCost = 1024;
}  // namespace

Socket::Socket(std::unique_ptr<Mnl> mnl, std::uint32_t portid, std::uint32_t seq)
    : mnl_(std::move(mnl)), portid_(portid), seq_(seq), buf_(std::make_unique_for_overwrite<char[]>(kRecvBuf)) {}
Socket::Socket(Socket&&) noexcept = default;
Socket& Socket::operator=(Socket&&) noexcept = default;
Socket::~Socket() = default;

Socket Socket::open() {
  auto mnl = std::make_unique<Mnl>();
  mnl->sock = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (!mnl->sock) throw NftError("nftables: open netfilter netlink socket", errno);
  if (mnl_socket_bind(mnl->sock, 0, MNL_SOCKET_AUTOPID) < 0)
    throw NftError("nftables: bind netfilter netlink socket", errno);
  // Errors then echo only the failing message's header, not its whole payload.
  int one = 1;
  mnl_socket_setsockopt(mnl->sock, NETLINK_CAP_ACK, &one, sizeof one);
  const std::uint32_t portid = mnl_socket_get_portid(mnl->sock);
  return Socket(std::move(mnl), portid, static_cast<std::uint32_t>(std::time(nullptr)));
}

void Socket::send(const void* buf, std::size_t len, const std::string& what) {
  if (mnl_socket_sendto(mnl_->sock, buf, len) < 0) throw NftError(what + ": send", errno);
}

bool Socket::receive(std::uint32_t seq, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
                     bool* absent) {
  bool intr = false;
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(mnl_->sock, buf_.get(), kRecvBuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw NftError(what + ": receive", errno);
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buf_.get()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != portid_) continue;  // a stale reply
      if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) intr = true;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (absent && e->error == -ENOENT) {
          *absent = true;
          return true;
        }
        if (e->error != 0) throw NftError(what, -e->error);
        return !intr;
      }
      if (nlh->nlmsg_type == NLMSG_DONE) return !intr;
      on_data(nlh);
    }
  }
}

void Socket::request(const nlmsghdr* msg, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
                     bool* absent) {
  send(msg, msg->nlmsg_len, what);
  receive(msg->nlmsg_seq, what, on_data, absent);
}

bool Socket::dump(const nlmsghdr* msg, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
                  bool* absent) {
  send(msg, msg->nlmsg_len, what);
  return receive(msg->nlmsg_seq, what, on_data, absent);
}

void Socket::drain(const std::function<void(std::uint32_t, int)>& on_reply, bool wait_first, const std::string& what) {
  const int fd = mnl_socket_get_fd(mnl_->sock);
  // Every ack and error is a datagram of its own. The kernel has queued all of them before
  // sendmsg returned (nfnetlink runs a batch inside the sender's sendmsg), so they are read
  // without waiting, many per recvmmsg: a good batch answers with its one ack, a failing one with
  // up to an error per message (n/kSlots calls, not 2n).
  constexpr unsigned kSlots = 16;
  const std::size_t slot = kRecvBuf / kSlots;  // 4 KiB: an ack or a capped error is < 100 bytes
  mmsghdr msgs[kSlots];
  iovec iov[kSlots];
  bool first = true;
  for (;;) {
    for (unsigned i = 0; i < kSlots; ++i) {
      iov[i] = {buf_.get() + i * slot, slot};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, msgs, kSlots, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) throw NftError(what + ": receive", errno);  // ENOBUFS: replies dropped, outcome unknown
      if (!(first && wait_first)) return;
      // Nothing queued at all: a safety net for a kernel that answers later.
      first = false;
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, 5000);
      if (r < 0 && errno != EINTR) throw NftError(what + ": poll", errno);
      if (r == 0) return;
      continue;
    }
    first = false;
    for (int m = 0; m < n; ++m) {
      int len = static_cast<int>(msgs[m].msg_len);
      for (auto* nlh = reinterpret_cast<const nlmsghdr*>(iov[m].iov_base); mnl_nlmsg_ok(nlh, len);
           nlh = mnl_nlmsg_next(nlh, &len)) {
        if (nlh->nlmsg_pid != portid_ || nlh->nlmsg_type != NLMSG_ERROR) continue;
        const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        on_reply(nlh->nlmsg_seq, -e->error);
      }
    }
    if (static_cast<unsigned>(n) < kSlots) return;  // the queue is empty
  }
}

void Socket::reserve(std::size_t bytes, std::size_t replies) {
  auto grow = [&](int force_opt, int opt, std::size_t want, std::size_t& current) {
    if (want <= kDefaultBuf || want <= current) return;
    int v = static_cast<int>(want);
    // FORCE ignores net.core.[rw]mem_max (CAP_NET_ADMIN, which nftables needs anyway).
    if (mnl_socket_setsockopt(mnl_->sock, force_opt, &v, sizeof v) < 0 &&
        setsockopt(mnl_socket_get_fd(mnl_->sock), SOL_SOCKET, opt, &v, sizeof v) < 0)
      throw NftError("nftables: raise socket buffer to " + std::to_string(want) + " bytes", errno);
    current = want;
  };
  grow(SO_SNDBUFFORCE, SO_SNDBUF, bytes * 2, sndbuf_);
  grow(SO_RCVBUFFORCE, SO_RCVBUF, replies * kAckCost, rcvbuf_);
}

std::uint32_t Socket::genid() {
  char buf[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, next_seq());
  std::uint32_t id = 0;
  bool seen = false;
  request(nlh, "nftables: get ruleset generation", [&](const nlmsghdr* reply) {
    struct GenFree {
      void operator()(nftnl_gen* g) const noexcept { nftnl_gen_free(g); }
    };
    std::unique_ptr<nftnl_gen, GenFree> gen(nftnl_gen_alloc());
    if (!gen) throw NftError("nftables: allocate generation", ENOMEM);
    if (nftnl_gen_nlmsg_parse(reply, gen.get()) < 0)
      throw NftError("nftables: parse ruleset generation", errno ? errno : EINVAL);
    id = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
    seen = true;
  });
  if (!seen) throw NftError("nftables: get ruleset generation: no answer", EPROTO);
  return id;
}

}  // namespace tether::nftables
