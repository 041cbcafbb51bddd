#pragma once
// The one error type every layer throws (or derives from). `code` is the CNI error code the
// boundary (cni::run_plugin) reports; 0 means "not classified" and is reported as 999.
#include <stdexcept>
#include <string>
#include <utility>

namespace tether {

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
