#pragma once
// BridgePlan + IPAM result → the firewall's NatPlan, keyed by (network, containerID, ifname).
#include "lib/cni/skel.hpp"
#include "lib/firewall/firewall.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {

firewall::AttachmentKey attachment_key(const cni::Request& req);
firewall::NatPlan make_nat_plan(const cni::Request& req, const BridgePlan& plan, const cni::Result& res);

}  // namespace tether::plugin
