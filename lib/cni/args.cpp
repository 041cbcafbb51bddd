#include "lib/cni/args.hpp"

#include "lib/cni/error.hpp"

namespace tether::cni {

std::optional<std::string> CniArgs::get(const std::string& key) const {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

CniArgs parse_cni_args(std::string_view raw) {
  CniArgs out;
  std::size_t pos = 0;
  while (pos <= raw.size()) {
    auto end = raw.find(';', pos);
    if (end == std::string_view::npos) end = raw.size();
    const auto pair = raw.substr(pos, end - pos);
    pos = end + 1;
    if (pair.empty()) continue;  // tolerate "A=1;;B=2" and a trailing ';'
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      fail(kInvalidEnv, "CNI_ARGS: invalid pair '" + std::string(pair) + "': expected KEY=VALUE");
    if (eq == 0) fail(kInvalidEnv, "CNI_ARGS: invalid pair '" + std::string(pair) + "': empty key");
    // The value keeps any further '=' (Go's SplitN(pair, "=", 2)); a repeated key: the last one wins.
    out.values[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  }
  return out;
}

}  // namespace tether::cni
