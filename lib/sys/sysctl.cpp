#include "lib/sys/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "lib/sys/sys_error.hpp"
#include "lib/sys/unique_fd.hpp"
#include "lib/util/fault.hpp"

namespace tether::sys {
namespace {

std::string full_path(const std::string& path) { return "/proc/sys/" + path; }

// Returns 0 or the errno of the failed step.
int try_write(const std::string& path, const std::string& value) {
  fault::point("sysctl write");
  UniqueFd fd(::open(full_path(path).c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return errno;
  if (static_cast<std::size_t>(n) != value.size()) return EIO;
  return 0;
}

}  // namespace

void write_sysctl(const std::string& path, const std::string& value) {
  if (int err = try_write(path, value)) throw SysError("write sysctl '" + full_path(path) + "' = " + value, err);
}

bool write_sysctl_if_exists(const std::string& path, const std::string& value) {
  int err = try_write(path, value);
  if (err == ENOENT) return false;
  if (err) throw SysError("write sysctl '" + full_path(path) + "' = " + value, err);
  return true;
}

std::optional<std::string> read_sysctl(const std::string& path) {
  UniqueFd fd(::open(full_path(path).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open sysctl '" + full_path(path) + "'");
  }
  char buf[256];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  if (n < 0) throw_errno("read sysctl '" + full_path(path) + "'");
  std::string out(buf, static_cast<std::size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ' || out.back() == '\t')) out.pop_back();
  return out;
}

}  // namespace tether::sys
