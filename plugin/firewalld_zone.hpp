#pragma once
// The production TrustedZone: firewalld over the system bus (lib/firewalld).
#include <memory>

#include "plugin/plugin.hpp"

namespace tether::plugin {

// nullptr when firewalld is not running (no bus socket: one stat; no firewalld: one bus call).
std::unique_ptr<TrustedZone> firewalld_trusted_zone();

}  // namespace tether::plugin
