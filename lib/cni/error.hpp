#pragma once
// The throw helpers for CNI errors (codes: lib/util/error.hpp). All CNI failures are tether::Error
// with one of these codes; cni::run_plugin turns them into {cniVersion, code, msg, details} on stdout.
#include <string>

#include "lib/util/error.hpp"

namespace tether::cni {

using enum ErrorCode;  // cni::kInvalidConfig etc.

[[noreturn]] inline void fail(int code, const std::string& msg, const std::string& details = {}) {
  throw Error(msg, code, details);
}
// "invalid config: key 'mtu': value 70000: must be between 68 and 65535" style, code 7.
[[noreturn]] inline void invalid_config(const std::string& key, const std::string& reason) {
  throw Error("invalid config key '" + key + "': " + reason, kInvalidConfig);
}

}  // namespace tether::cni
