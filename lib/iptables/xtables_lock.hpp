#pragma once
// The lock every iptables tool takes around a table rewrite: flock(LOCK_EX) on
// $XTABLES_LOCKFILE (if set and non-empty) or /run/xtables.lock. It belongs to the mount
// namespace, not the netns, so it serialises all writers on the host. Hold it from iptc_init to
// iptc_commit: libiptc rewrites the whole table, and without the lock concurrent writers silently
// lose each other's updates.
#include <chrono>
#include <optional>
#include <string>

#include "lib/sys/file_lock.hpp"

namespace tether::iptables {

class XtablesLock {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{5000};

  // Waits up to `timeout`. Throws tether::Error code 11 (try again later) naming the path when
  // another process holds it longer; SysError if the file cannot be opened.
  static XtablesLock acquire(std::chrono::milliseconds timeout = kDefaultTimeout);
  // One non-blocking attempt: nullopt when somebody else holds the lock.
  static std::optional<XtablesLock> try_acquire();

  static std::string path();  // $XTABLES_LOCKFILE or /run/xtables.lock

 private:
  explicit XtablesLock(sys::FileLock lock) : lock_(std::move(lock)) {}
  sys::FileLock lock_;
};

}  // namespace tether::iptables
