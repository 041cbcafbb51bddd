#pragma once
// Test-only fault seam: fault::point(op) marks one mutating kernel or store operation. Production
// builds compile it to nothing; a build defining TETHER_FAULT_SEAM (tests/fault only) counts the
// calls and fails the armed N-th one with tether::Error, once, so the rollback that follows runs.
#ifdef TETHER_FAULT_SEAM
#include <atomic>
#include <functional>
#include <string>

#include "lib/util/error.hpp"
#endif

namespace tether::fault {

#ifdef TETHER_FAULT_SEAM
namespace detail {
inline std::atomic<int> calls{0};
inline std::atomic<int> target{0};  // 0: disarmed
inline std::function<void(const char* op)> observer;
}  // namespace detail

// Called at every point() before it counts (tests that change the world mid-ADD); {} to clear.
inline void observe(std::function<void(const char* op)> fn) { detail::observer = std::move(fn); }

// Restarts the count; the n-th point() from now fails (n <= 0: none).
inline void arm(int n) {
  detail::calls = 0;
  detail::target = n;
}
inline void disarm() { detail::target = 0; }
inline int count() { return detail::calls.load(); }

inline void point(const char* op) {
  if (detail::observer) detail::observer(op);
  const int n = ++detail::calls;
  int armed = n;
  if (detail::target.compare_exchange_strong(armed, 0))
    throw Error("injected fault at operation #" + std::to_string(n) + " (" + op + ")");
}
#else
inline void point(const char*) {}
#endif

}  // namespace tether::fault
