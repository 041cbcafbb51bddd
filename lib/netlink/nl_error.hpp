#pragma once
// Netlink failures: the operation and its objects, the raw kernel errno (captured by RtnlSocket's
// error callback, because libnl maps errnos lossily), and the kernel's extack text when it sent one:
//   "add veth 'veth1a2b3c4d' <-> 'eth0': File exists"
#include <string>

#include "lib/util/error.hpp"

namespace tether::netlink {

class NlError : public Error {
 public:
  // nle: the libnl return code (negative or positive NLE_*); err: positive errno or 0 if unknown.
  NlError(const std::string& op, int nle, int err, const std::string& extack, int code = 0);
  int nle() const noexcept { return nle_; }
  int sys_errno() const noexcept { return errno_; }

 private:
  int nle_;
  int errno_;
};

}  // namespace tether::netlink
