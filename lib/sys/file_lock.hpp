#pragma once
// Exclusive flock(2) on a lock file, taken with a deadline and released in the destructor.
// flock has no timeout, so we poll LOCK_NB with a short, growing sleep: waiters never block
// forever behind a stuck holder, and the caller decides what a timeout means (CNI code 11).
#include <chrono>
#include <optional>
#include <string>

#include "lib/sys/unique_fd.hpp"

namespace tether::sys {

// Exclusive: one holder. Shared: any number of shared holders, but never beside an exclusive one.
enum class LockMode { kExclusive, kShared };

class FileLock {
 public:
  // Opens (creating, mode 0644) `path` and waits up to `timeout` for the lock.
  // Throws SysError on open failure; Error with `timeout_code` when the deadline passes.
  static FileLock acquire(const std::string& path, std::chrono::milliseconds timeout, int timeout_code,
                          LockMode mode = LockMode::kExclusive);
  // One non-blocking attempt for the exclusive lock; nullopt when someone else holds it.
  static std::optional<FileLock> try_acquire(const std::string& path);

  FileLock(FileLock&&) noexcept = default;
  FileLock& operator=(FileLock&&) noexcept = default;
  ~FileLock() = default;  // closing the fd drops the flock

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace tether::sys
