#include "lib/firewall/udp_flows.hpp"

#include <exception>
#include <string>

#include "lib/conntrack/udp_flush.hpp"
#include "lib/log/log.hpp"

namespace tether::firewall {

void forget_udp_flows(net::Family family, const std::vector<std::uint16_t>& host_ports) noexcept {
  if (host_ports.empty()) return;
  const char* fam = family == net::Family::V4 ? "v4" : "v6";
  try {
    const auto n = conntrack::delete_udp_conntrack(family, host_ports);
    log::debug("nat: deleted " + std::to_string(n) + " stale UDP conntrack entries (" + fam + ")");
  } catch (const std::exception& e) {
    log::warn(std::string("nat: UDP conntrack cleanup (") + fam + ") failed: " + e.what() + ", ignoring");
  }
}

}  // namespace tether::firewall
