// GC and STATUS: forwarded to IPAM and (GC) to the firewall state.
#include "lib/util/error_list.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {

void cmd_gc(const cni::Request& req, const Deps& deps) {
  const BridgePlan plan = build_bridge_plan(req, PlanUse::Teardown);
  util::ErrorList errors;
  errors.run("IPAM GC", [&] { ipam_gc(plan, req); });
  // Without a valid-attachments list there is nothing to compare against: leave the rules alone.
  if (req.conf.valid_attachments) {
    std::vector<firewall::AttachmentKey> valid;
    for (const auto& a : *req.conf.valid_attachments) valid.push_back({req.conf.name, a.container_id, a.ifname});
    errors.run("firewall GC", [&] { deps.firewall->gc(req.conf.name, valid); });
  }
  errors.throw_if_any();
}

void cmd_status(const cni::Request& req, const Deps&) {
  const BridgePlan plan = build_bridge_plan(req);
  ipam_status(plan, req);
}

}  // namespace tether::plugin
