#pragma once
// IPAM per spec: exec `ipam.type` from CNI_PATH, except our own tether-ipam, which runs in process
// (same library as the binary; one exec saved per call). No-ops when the plan has no IPAM.
#include "lib/cni/skel.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {

cni::Result ipam_add(const BridgePlan& plan, const cni::Request& req);
void ipam_del(const BridgePlan& plan, const cni::Request& req);
void ipam_check(const BridgePlan& plan, const cni::Request& req);
void ipam_gc(const BridgePlan& plan, const cni::Request& req);
void ipam_status(const BridgePlan& plan, const cni::Request& req);

}  // namespace tether::plugin
