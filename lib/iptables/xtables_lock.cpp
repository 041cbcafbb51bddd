#include "lib/iptables/xtables_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "lib/sys/sys_error.hpp"
#include "lib/util/error.hpp"

namespace tether::iptables {
namespace {

sys::UniqueFd open_lock_file(const std::string& path) {
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd) sys::throw_errno("open xtables lock '" + path + "'");
  return fd;
}

// true = locked, false = held by someone else.
bool try_flock(int fd, const std::string& path) {
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno == EWOULDBLOCK) return false;
    if (errno != EINTR) sys::throw_errno("flock xtables lock '" + path + "'");
  }
}

}  // namespace

std::string XtablesLock::path() {
  const char* env = std::getenv("XTABLES_LOCKFILE");
  return env != nullptr && *env != '\0' ? env : "/run/xtables.lock";
}

std::optional<XtablesLock> XtablesLock::try_acquire() {
  const std::string p = path();
  sys::UniqueFd fd = open_lock_file(p);
  if (!try_flock(fd.get(), p)) return std::nullopt;
  return XtablesLock(std::move(fd));
}

XtablesLock XtablesLock::acquire(std::chrono::milliseconds timeout) {
  const std::string p = path();
  sys::UniqueFd fd = open_lock_file(p);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (!try_flock(fd.get(), p)) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("xtables lock '" + p + "' is held by another process (waited " + std::to_string(timeout.count()) +
                      " ms); try again later",
                  11);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(10000));  // short sleeps, bounded latency
  }
  return XtablesLock(std::move(fd));
}

}  // namespace tether::iptables
