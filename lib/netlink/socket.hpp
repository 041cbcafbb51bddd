#pragma once
// RtnlSocket: one NETLINK_ROUTE socket bound (for its whole life) to the netns of the thread that
// opened it. Open the container's socket inside a NetnsGuard, then work from the host thread.
// Not thread-safe: one per thread. An open socket pins its netns: free container sockets promptly.
#include <memory>
#include <string>

struct nl_sock;
struct nl_msg;

namespace tether::netns {
class Netns;
}

namespace tether::netlink {

class RtnlSocket {
 public:
  static RtnlSocket open();                           // in the calling thread's netns
  static RtnlSocket open_in(const netns::Netns& ns);  // switches, opens, switches back
  RtnlSocket(RtnlSocket&&) noexcept;
  RtnlSocket& operator=(RtnlSocket&&) noexcept;
  ~RtnlSocket();

  nl_sock* get() const noexcept;
  // Request bookkeeping for the wrappers: clear the captured error before a request, then turn a
  // negative libnl return code into NlError (naming `op`, with the raw errno and extack).
  void clear_error() noexcept;
  [[noreturn]] void fail(int rc, const std::string& op) const;
  void check(int rc, const std::string& op) const {
    if (rc < 0) fail(rc, op);
  }
  // Receives the replies to the request just sent, each message to `on_msg` (libnl's NL_CB_VALID),
  // with this socket's error handling kept. Returns libnl's code: < 0 on failure (a kernel
  // NLMSG_ERROR included), -NLE_DUMP_INTR when a dump must be re-read.
  int receive(int (*on_msg)(nl_msg*, void*), void* arg);
  // NETLINK_GET_STRICT_CHK (once): the kernel then honours the header filters of dump requests
  // (e.g. one link's addresses). Breaks libnl's rtnl_addr_alloc_cache on this socket: don't use it.
  void enable_strict_check() noexcept;
  // Positive errno of the last failed request: the captured one, else derived from the libnl code.
  int errno_of(int rc) const noexcept;

 private:
  struct State;
  explicit RtnlSocket(std::unique_ptr<State> st);
  std::unique_ptr<State> st_;
};

}  // namespace tether::netlink
