#pragma once
// A non-authoritative (containerID, ifname) → IPs index, so DEL and repeated-ADD checks need not
// read every lease file (host-local reads them all on every DEL).
//
// Layout, inside the network directory (host-local's walk reads these files but their content
// never equals "<id>\r\n<ifname>", so it never mistakes them for leases):
//   .tether-index/snapshot  lines "<id>@<ifname> <ip>"   (ifname empty = legacy ID-only lease)
//   .tether-index/journal   lines "+<id>@<ifname> <ip>" / "-..." appended after the snapshot
//   .tether-index/stamp     "<sec>.<nsec>", overwritten in place
// IDs contain no '@' and neither part contains whitespace (spec name rules), so a line splits
// unambiguously. Appending to one journal costs no new inode per lease; inode creation is what a
// busy ext4 charges most for. Replaying a journal twice gives the same state, so compaction
// (journal folded into a new snapshot) is crash-safe in any order.
//
// Freshness: after each change we set the network directory's mtime to a fine-grained time of our
// choosing and record it in `stamp`. Every lease create/remove by anyone else (host-local, a
// crashed tether-ipam) changes the directory mtime to the kernel's clock, so a mismatch means
// "stale" and the index is rebuilt from the lease files. Lease files change before the index is
// written, so a crash in between always leaves the stamp mismatched. The caller holds the store
// lock for every call.
#include <optional>
#include <string>
#include <vector>

#include "ipam/store.hpp"
#include "lib/sys/unique_fd.hpp"

namespace tether::ipam {

inline constexpr const char* kIndexDirName = ".tether-index";

class LeaseIndex {
 public:
  LeaseIndex(int net_dir_fd, std::string what);  // `what`: the network dir path, for messages

  // True when the stamp matches the directory mtime (the index can be trusted).
  bool fresh();
  // Replaces the index with `leases` (garbage, owner-less leases are not indexed).
  void rebuild(const std::vector<Lease>& leases);
  bool usable() const { return usable_; }
  // IPs recorded for owner; call only when usable().
  std::vector<net::IpAddress> lookup(const Owner& owner);
  void add(const Owner& owner, const net::IpAddress& ip);
  void remove(const Owner& owner, const net::IpAddress& ip);
  // Writes pending changes and records the directory's state as indexed (after the caller's last
  // lease change).
  void seal();
  // Drops trust (removes the stamp): the next user rebuilds.
  void invalidate() noexcept;

 private:
  void open_dir();
  const std::string& snapshot();  // read once per session
  const std::string& journal();
  void compact();

  int net_fd_;
  std::string what_;
  sys::UniqueFd fd_;
  bool usable_ = false;
  std::optional<std::string> snapshot_, journal_;
  std::string pending_;  // journal lines not yet written
};

}  // namespace tether::ipam
