#include "lib/netns/netns.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "lib/log/log.hpp"
#include "lib/sys/sys_error.hpp"

namespace tether::netns {
namespace {

// nsfs (or procfs for /proc/<pid>/ns/net) alone is not enough: /proc/self/ns/mnt is nsfs and
// /proc/version is procfs. NS_GET_NSTYPE (Linux 4.11) says which kind of namespace it is.
bool is_netns_fd(int fd) {
  struct statfs st {};
  if (::fstatfs(fd, &st) != 0) return false;
  if (st.f_type != static_cast<decltype(st.f_type)>(NSFS_MAGIC) &&
      st.f_type != static_cast<decltype(st.f_type)>(PROC_SUPER_MAGIC))
    return false;
  return ::ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET;
}

}  // namespace

std::optional<Netns> Netns::open_if_exists(const std::string& path, const std::string& what) {
  if (path.empty()) throw Error(what + ": empty path", kInvalidEnv);
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw sys::SysError(what + ": open '" + path + "'", errno, kInvalidEnv);
  }
  if (!is_netns_fd(fd.get())) throw Error(what + " '" + path + "' is not a network namespace", kInvalidEnv);
  return Netns(std::move(fd), path);
}

Netns Netns::open(const std::string& path, const std::string& what) {
  auto ns = open_if_exists(path, what);
  if (!ns) throw sys::SysError(what + ": open '" + path + "'", ENOENT, kInvalidEnv);
  return std::move(*ns);
}

Netns Netns::current() {
  static const char* kSelf = "/proc/thread-self/ns/net";
  sys::UniqueFd fd(::open(kSelf, O_RDONLY | O_CLOEXEC));
  if (!fd) sys::throw_errno(std::string("open '") + kSelf + "'");
  return Netns(std::move(fd), kSelf);
}

NetnsGuard::NetnsGuard(const Netns& target) {
  // Save via thread-self: in a non-leader thread /proc/self/ns/net is the leader's netns.
  saved_.reset(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!saved_) sys::throw_errno("open '/proc/thread-self/ns/net'");
  if (::setns(target.fd(), CLONE_NEWNET) != 0) sys::throw_errno("setns into '" + target.path() + "'");
}

NetnsGuard::~NetnsGuard() {
  if (::setns(saved_.get(), CLONE_NEWNET) != 0) {
    log::error(std::string("setns back to the original netns failed: ") + std::strerror(errno) + "; aborting");
    std::abort();
  }
}

}  // namespace tether::netns
