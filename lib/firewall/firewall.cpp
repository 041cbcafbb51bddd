#include "lib/firewall/firewall.hpp"

#include <algorithm>

namespace tether::firewall {

bool NatPlan::needs_route_localnet() const {
  const bool v4_container = std::any_of(container_ips.begin(), container_ips.end(),
                                        [](const net::IpPrefix& p) { return p.family() == net::Family::V4; });
  const bool v4_mapping = std::any_of(port_mappings.begin(), port_mappings.end(),
                                      [](const PortMapping& m) { return m.applies_to(net::Family::V4); });
  return v4_container && v4_mapping;
}

std::vector<std::uint16_t> NatPlan::udp_host_ports(net::Family family) const {
  std::vector<std::uint16_t> ports;
  for (const auto& m : port_mappings)
    if (m.protocol == net::L4Proto::Udp && m.applies_to(family)) ports.push_back(m.host_port);
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

void Firewall::add_with_forward(const NatPlan& plan, const ForwardPlan& forward) {
  add(plan);
  try {
    ensure_forward(forward);
  } catch (...) {
    try {
      del(plan.key);
    } catch (...) {  // the first failure is the one to report
    }
    throw;
  }
}

void Firewall::del_with_forward(const AttachmentKey& key) {
  del(key);
  remove_forward(key.network);
}

const char* backend_name(Backend b) { return b == Backend::Iptables ? "iptables" : "nftables"; }

}  // namespace tether::firewall
