#pragma once
// Network config parsing (spec §Network configuration, §Request config, CONVENTIONS.md).
// Malformed JSON / non-object → code 6. Type errors → code 7 naming the key.
// Accepts portMappings keys in any case (CRI sends HostPort/ContainerPort/Protocol/HostIP).
#include <string_view>

#include "lib/cni/types.hpp"

namespace tether::cni {

inline constexpr std::size_t kMaxStdinBytes = 4 * 1024 * 1024;  // larger stdin is rejected (code 6)
// Deeper nesting is rejected (code 6): real configs nest about 6 levels (prevResult.routes[0]),
// and values are copied and printed recursively.
inline constexpr std::size_t kMaxJsonDepth = 64;

NetConf parse_netconf(std::string_view text);

}  // namespace tether::cni
