#pragma once
// errno-carrying system error. Messages name the operation and its objects:
//   "open '/var/lib/cni/networks/net1/lock': Permission denied"
#include <cerrno>
#include <cstring>
#include <string>

#include "lib/util/error.hpp"

namespace tether::sys {

class SysError : public Error {
 public:
  SysError(const std::string& op, int err, int code = 0) : Error(op + ": " + std::strerror(err), code), errno_(err) {}
  int error_number() const noexcept { return errno_; }

 private:
  int errno_;
};

// Throws SysError(op, errno): call right after the failing syscall.
[[noreturn]] inline void throw_errno(const std::string& op) { throw SysError(op, errno); }

}  // namespace tether::sys
