#pragma once
// The one error type every layer throws (or derives from). `code` is the CNI error code the
// boundary (cni::run_plugin) reports; 0 means "not classified" and is reported as 999.
#include <stdexcept>
#include <string>
#include <utility>

namespace tether {

// The CNI error codes (spec 1.1.0 §Error), for every layer: the boundary reports them as is.
enum ErrorCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnv = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kNotAvailable = 50,
  kLimitedConnectivity = 51,
  kInternal = 999,
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg, int code = 0, std::string details = {})
      : std::runtime_error(msg), code_(code), details_(std::move(details)) {}
  int code() const noexcept { return code_; }
  const std::string& details() const noexcept { return details_; }

 private:
  int code_;
  std::string details_;
};

}  // namespace tether
