#pragma once
// Network namespaces: a validated netns fd (Netns) and a scoped thread switch (NetnsGuard).
// setns(CLONE_NEWNET) switches only the calling thread; everything here is per-thread.
#include <optional>
#include <string>

#include "lib/sys/unique_fd.hpp"

namespace tether::netns {

// An open network-namespace fd, checked with fstatfs on the fd itself (no TOCTOU): NSFS_MAGIC, or
// PROC_SUPER_MAGIC for kernels < 3.19 (as CNI accepts).
class Netns {
 public:
  // Throws tether::Error code 4 naming `what` (e.g. "CNI_NETNS") and the path when the path cannot
  // be opened or is not a network namespace.
  static Netns open(const std::string& path, const std::string& what = "netns");
  // nullopt when the path does not exist (a netns already deleted): DEL treats that as "nothing to do".
  static std::optional<Netns> open_if_exists(const std::string& path, const std::string& what = "netns");
  // The calling thread's current netns (/proc/thread-self/ns/net).
  static Netns current();

  int fd() const noexcept { return fd_.get(); }
  const std::string& path() const noexcept { return path_; }

 private:
  Netns(sys::UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  sys::UniqueFd fd_;
  std::string path_;
};

// Switches the calling thread into `target` for the guard's scope. The destructor switches back to
// the netns saved at construction; if that fails the process aborts: carrying on in the container's
// netns would apply host changes to the wrong namespace. Keep the scope tiny: open sockets, write
// sysctls. Never exec, start threads or take host locks inside.
class NetnsGuard {
 public:
  explicit NetnsGuard(const Netns& target);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

 private:
  sys::UniqueFd saved_;
};

}  // namespace tether::netns
