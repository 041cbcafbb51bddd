#pragma once
// CNI_ARGS "K=V;K2=V2". Unknown keys are always accepted: runtimes send K8S_* keys and cnitool
// passes CNI_ARGS raw, without IgnoreUnknown.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tether::cni {

struct CniArgs {
  std::map<std::string, std::string> values;
  std::optional<std::string> get(const std::string& key) const;
};

// Throws tether::Error code 4 naming CNI_ARGS on a malformed pair ("K" without '=', empty key).
CniArgs parse_cni_args(std::string_view raw);

}  // namespace tether::cni
