#include "lib/sys/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <time.h>

#include <algorithm>

#include "lib/sys/sys_error.hpp"

namespace tether::sys {
namespace {

UniqueFd open_lock_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw_errno("open lock file '" + path + "'");
  return fd;
}

// true: locked; false: held by someone else. Other errors throw.
bool try_flock(int fd, const std::string& path, LockMode mode = LockMode::kExclusive) {
  while (::flock(fd, (mode == LockMode::kShared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) throw_errno("flock '" + path + "'");
  }
  return true;
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  ::nanosleep(&ts, nullptr);
}

}  // namespace

FileLock FileLock::acquire(const std::string& path, std::chrono::milliseconds timeout, int timeout_code,
                           LockMode mode) {
  UniqueFd fd = open_lock_file(path);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  long backoff_us = 50;  // lock holds are sub-millisecond: start short, cap at 2 ms
  while (!try_flock(fd.get(), path, mode)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error("timed out after " + std::to_string(timeout.count()) + " ms waiting for lock '" + path + "'",
                  timeout_code);
    }
    sleep_us(backoff_us);
    backoff_us = std::min(backoff_us * 2, 2000L);
  }
  return FileLock(std::move(fd));
}

std::optional<FileLock> FileLock::try_acquire(const std::string& path) {
  UniqueFd fd = open_lock_file(path);
  if (!try_flock(fd.get(), path)) return std::nullopt;
  return FileLock(std::move(fd));
}

}  // namespace tether::sys
