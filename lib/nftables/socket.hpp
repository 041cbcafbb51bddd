#pragma once
// The nfnetlink socket nftables speaks through (libmnl), bound to the netns current at open().
// Requests carry our portid and a fresh sequence number; replies are matched on both. Not
// thread-safe: one Socket per thread (the netns is per thread anyway).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct nlmsghdr;

namespace tether::nftables {

class Socket {
 public:
  // Throws NftError when netfilter netlink is unavailable (EPROTONOSUPPORT) or bind fails.
  static Socket open();
  Socket(Socket&&) noexcept;
  Socket& operator=(Socket&&) noexcept;
  ~Socket();

  // The ruleset generation (NFT_MSG_GETGEN): bumped by every committed batch in this netns.
  std::uint32_t genid();

  // --- message exchange (used by batch.cpp and reader.cpp) ---
  std::uint32_t next_seq() noexcept { return seq_++; }
  std::uint32_t portid() const noexcept { return portid_; }
  // Sends one request (flags must include NLM_F_ACK) and receives until its ack; `on_data` sees
  // every data reply. Throws NftError(what, errno) when the kernel answers with an error, except
  // ENOENT when `absent` is given: *absent is set then (a GET of what may not exist; a throw costs
  // more than the round trip, and a missing table is the common answer).
  void request(const nlmsghdr* msg, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
               bool* absent = nullptr);
  // Sends a dump request and feeds every reply to `on_data` (errors as request()). Returns false
  // when the kernel flagged the dump as interrupted by a concurrent change (NLM_F_DUMP_INTR): dump
  // again.
  bool dump(const nlmsghdr* msg, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
            bool* absent = nullptr);

  // Batches: sends `len` bytes at once, then collects every reply queued for this socket (the
  // kernel answers a batch synchronously, inside sendmsg). on_reply(seq, errno) per ack/error.
  void send(const void* buf, std::size_t len, const std::string& what);
  void drain(const std::function<void(std::uint32_t seq, int err)>& on_reply, bool wait_first, const std::string& what);
  // Makes room for a batch of `bytes` with `replies` acks (SO_SNDBUF/SO_RCVBUF, forced as root),
  // only when the defaults are too small.
  void reserve(std::size_t bytes, std::size_t replies);

 private:
  struct Mnl;
  Socket(std::unique_ptr<Mnl> mnl, std::uint32_t portid, std::uint32_t seq);
  bool receive(std::uint32_t seq, const std::string& what, const std::function<void(const nlmsghdr*)>& on_data,
               bool* absent = nullptr);

  std::unique_ptr<Mnl> mnl_;
  std::uint32_t portid_ = 0;
  std::uint32_t seq_ = 0;
  std::size_t sndbuf_ = 0;  // what reserve() last set (0 = kernel default)
  std::size_t rcvbuf_ = 0;
  std::unique_ptr<char[]> buf_;  // kRecvBuf bytes, never zeroed (the kernel's replies land there)
};

}  // namespace tether::nftables
