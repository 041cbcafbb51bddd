#include "plugin/nat_plan.hpp"

namespace tether::plugin {

firewall::AttachmentKey attachment_key(const cni::Request& req) {
  return {req.conf.name, req.env.container_id, req.env.ifname};
}

firewall::NatPlan make_nat_plan(const cni::Request& req, const BridgePlan& plan, const cni::Result& res) {
  firewall::NatPlan nat;
  nat.key = attachment_key(req);
  nat.ip_masq = plan.ip_masq;
  for (const auto& ip : res.ips) nat.container_ips.push_back(ip.address);
  for (const auto& pm : plan.port_mappings)
    nat.port_mappings.push_back({pm.host_port, pm.container_port, pm.protocol, pm.host_ip});
  return nat;
}

}  // namespace tether::plugin
