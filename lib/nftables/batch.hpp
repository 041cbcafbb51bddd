#pragma once
// One nftables transaction: BATCH_BEGIN, the messages, BATCH_END, sent with a single sendmsg and
// applied by the kernel atomically (all or nothing). The kernel reports every failing message of
// a batch, acked or not, so only the last message asks for an ack (the end of the answer) and
// commit() pins each failure to the message that caused it.
//
// Optionally guarded by a ruleset generation (Socket::genid()): the kernel then refuses the
// whole batch with ERESTART if anything was committed since, which makes read -> decide ->
// write sequences race-free (the caller re-reads and retries).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/nftables/objects.hpp"

namespace tether::nftables {

class Socket;

class Batch {
 public:
  Batch();
  // Each call appends one message and returns its index (BatchFailure::index).
  // create_* without `exclusive` succeed when an identical object exists (NLM_F_CREATE);
  // with it they fail with EEXIST (NLM_F_EXCL).
  std::size_t add_table(const Table& t, bool exclusive = false);
  std::size_t del_table(Family f, const std::string& name);
  std::size_t add_chain(const Chain& c, bool exclusive = false);
  std::size_t del_chain(Family f, const std::string& table, const std::string& name);
  std::size_t flush_chain(Family f, const std::string& table, const std::string& name);  // delete its rules
  std::size_t add_set(const Set& s);  // an existing set of another layout: EEXIST
  // Existing key with the same data: success, with other data: EEXIST; `exclusive`: any existing
  // key fails with EEXIST (in an interval set a partly overlapping range: ENOTEMPTY).
  std::size_t add_element(const Element& e, bool exclusive = false);
  std::size_t del_element(const Element& e);  // by key (and key_end)
  std::size_t add_rule(const Rule& r);        // appended
  std::size_t insert_rule(const Rule& r);     // first in its chain
  std::size_t del_rule(Family f, const std::string& table, const std::string& chain, std::uint64_t handle);

  std::size_t size() const noexcept { return whats_.size(); }
  bool empty() const noexcept { return whats_.empty(); }
  const std::string& what(std::size_t index) const { return whats_.at(index); }

  // Sends the batch (generation-guarded when `genid` is set) and waits for the verdict. Throws
  // BatchError naming every failed message; ERESTART (index SIZE_MAX) when the guard tripped.
  // An empty batch sends nothing.
  void commit(Socket& sock, std::optional<std::uint32_t> genid = std::nullopt) const;

 private:
  char* reserve_message();
  std::size_t finish_message(std::string what);
  // libnftnl builds each message in scratch_ (room for the largest), which is then appended to
  // buf_ at its real size; only the bytes a message used are zeroed again, not the whole room.
  std::unique_ptr<char[]> scratch_;
  std::vector<char> buf_;  // the messages, each NLMSG_ALIGNed; BEGIN/END are added by commit()
  std::vector<std::string> whats_;
  std::vector<std::size_t> offsets_;
};

}  // namespace tether::nftables
