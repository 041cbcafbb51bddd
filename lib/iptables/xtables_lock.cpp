#include "lib/iptables/xtables_lock.hpp"

#include <cstdlib>

#include "lib/util/error.hpp"

namespace tether::iptables {

std::string XtablesLock::path() {
  const char* env = std::getenv("XTABLES_LOCKFILE");
  return env != nullptr && *env != '\0' ? env : "/run/xtables.lock";
}

std::optional<XtablesLock> XtablesLock::try_acquire() {
  auto lock = sys::FileLock::try_acquire(path());
  if (!lock) return std::nullopt;
  return XtablesLock(std::move(*lock));
}

XtablesLock XtablesLock::acquire(std::chrono::milliseconds timeout) {
  return XtablesLock(sys::FileLock::acquire(path(), timeout, kTryAgainLater));
}

}  // namespace tether::iptables
