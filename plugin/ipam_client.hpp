#pragma once
// IPAM per spec: exec `ipam.type` from CNI_PATH, except our own tether-ipam, which runs in process
// (same library as the binary; one exec saved per call). No-ops when the plan has no IPAM.
#include <optional>

#include "ipam/ipam.hpp"
#include "lib/cni/skel.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {

// One ADD's IPAM: an in-process tether-ipam's whole config is validated at construction, before
// the ADD changes anything on the host; an exec'd plugin validates its own when run.
class IpamAdd {
 public:
  IpamAdd(const BridgePlan& plan, const cni::Request& req);
  bool empty() const { return plan_.ipam_type.empty(); }
  cni::Result run() const;

 private:
  const BridgePlan& plan_;
  const cni::Request& req_;
  std::optional<ipam::PreparedAdd> in_process_;
};
void ipam_del(const BridgePlan& plan, const cni::Request& req);
void ipam_check(const BridgePlan& plan, const cni::Request& req);
void ipam_gc(const BridgePlan& plan, const cni::Request& req);
void ipam_status(const BridgePlan& plan, const cni::Request& req);

}  // namespace tether::plugin
