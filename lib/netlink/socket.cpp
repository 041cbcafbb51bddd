#include "lib/netlink/socket.hpp"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/netns/netns.hpp"

namespace tether::netlink {
namespace {

struct ErrSlot {
  int err = 0;  // positive errno from the last NLMSG_ERROR
  std::string extack;
};

// Reads NLMSGERR_ATTR_MSG from an error message carrying ack TLVs (NETLINK_EXT_ACK).
std::string extack_text(const nlmsgerr* e) {
  const auto* hdr = reinterpret_cast<const nlmsghdr*>(reinterpret_cast<const char*>(e) - NLMSG_HDRLEN);
  if (!(hdr->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  std::size_t skip = sizeof(nlmsgerr);
  if (!(hdr->nlmsg_flags & NLM_F_CAPPED)) skip += e->msg.nlmsg_len - sizeof(nlmsghdr);
  const char* start = reinterpret_cast<const char*>(e) + NLMSG_ALIGN(skip);
  const char* end = reinterpret_cast<const char*>(hdr) + hdr->nlmsg_len;
  if (start >= end) return {};
  nlattr* a = nla_find(reinterpret_cast<const nlattr*>(start), static_cast<int>(end - start), NLMSGERR_ATTR_MSG);
  if (!a || nla_len(a) <= 0) return {};
  std::string s(static_cast<const char*>(nla_data(a)), static_cast<std::size_t>(nla_len(a)));
  while (!s.empty() && s.back() == '\0') s.pop_back();
  return s;
}

// Must return NL_STOP: NL_SKIP would make the libnl call return 0 and lose the error.
int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
  auto* slot = static_cast<ErrSlot*>(arg);
  slot->err = -e->error;
  slot->extack = extack_text(e);
  return NL_STOP;
}

// Maps the libnl codes back to an errno when the callback saw nothing (rtnl_link_get_kernel
// installs its own error callback).
int nle_to_errno(int nle) {
  switch (std::abs(nle)) {
    case NLE_EXIST: return EEXIST;
    case NLE_NODEV: return ENODEV;
    case NLE_OBJ_NOTFOUND: return ENOENT;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_INVAL: return EINVAL;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_NOACCESS: return EACCES;
    case NLE_PERM: return EPERM;
    case NLE_BUSY: return EBUSY;
    case NLE_NOMEM: return ENOMEM;
    case NLE_AGAIN: return EAGAIN;
    default: return 0;
  }
}

}  // namespace

struct RtnlSocket::State {
  nl_sock* sk = nullptr;
  ErrSlot slot;
  bool strict = false;
  ~State() {
    if (sk) nl_socket_free(sk);
  }
};

RtnlSocket::RtnlSocket(std::unique_ptr<State> st) : st_(std::move(st)) {}
RtnlSocket::RtnlSocket(RtnlSocket&&) noexcept = default;
RtnlSocket& RtnlSocket::operator=(RtnlSocket&&) noexcept = default;
RtnlSocket::~RtnlSocket() = default;

RtnlSocket RtnlSocket::open() {
  auto st = std::make_unique<State>();
  st->sk = nl_socket_alloc();
  if (!st->sk) throw NlError("allocate netlink socket", NLE_NOMEM, ENOMEM, {});
  if (int rc = nl_connect(st->sk, NETLINK_ROUTE); rc < 0) throw NlError("connect NETLINK_ROUTE", rc, 0, {});
  int one = 1;
  int fd = nl_socket_get_fd(st->sk);
  // Best effort: older kernels lack these; errors then just come without text.
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  nl_socket_modify_err_cb(st->sk, NL_CB_CUSTOM, on_error, &st->slot);
  return RtnlSocket(std::move(st));
}

RtnlSocket RtnlSocket::open_in(const netns::Netns& ns) {
  netns::NetnsGuard guard(ns);
  return open();
}

nl_sock* RtnlSocket::get() const noexcept { return st_->sk; }

void RtnlSocket::clear_error() noexcept {
  st_->slot.err = 0;
  st_->slot.extack.clear();
}

int RtnlSocket::receive(int (*on_msg)(nl_msg*, void*), void* arg) {
  detail::CPtr<nl_cb, nl_cb_put> base(nl_socket_get_cb(st_->sk));  // +1 ref
  detail::CPtr<nl_cb, nl_cb_put> cb(nl_cb_clone(base.get()));      // keeps on_error
  if (!cb) return -NLE_NOMEM;
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_msg, arg);
  return nl_recvmsgs(st_->sk, cb.get());
}

void RtnlSocket::enable_strict_check() noexcept {
  if (st_->strict) return;
  int one = 1;
  // Best effort: a kernel without it (< 4.20) returns everything and callers filter anyway.
  (void)::setsockopt(nl_socket_get_fd(st_->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  st_->strict = true;
}

int RtnlSocket::errno_of(int rc) const noexcept { return st_->slot.err ? st_->slot.err : nle_to_errno(rc); }

void RtnlSocket::fail(int rc, const std::string& op) const { throw NlError(op, rc, errno_of(rc), st_->slot.extack); }

}  // namespace tether::netlink
