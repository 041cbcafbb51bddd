#include "lib/netlink/nl_error.hpp"

#include <netlink/errno.h>

#include <cstdlib>
#include <cstring>

namespace tether::netlink {
namespace {

std::string describe(int nle, int err, const std::string& extack) {
  std::string text = err ? std::strerror(err) : nl_geterror(std::abs(nle));
  if (!extack.empty()) text += " (" + extack + ")";
  return text;
}

}  // namespace

NlError::NlError(const std::string& op, int nle, int err, const std::string& extack, int code)
    : Error(op + ": " + describe(nle, err, extack), code), nle_(std::abs(nle)), errno_(err) {}

}  // namespace tether::netlink
