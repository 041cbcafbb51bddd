// GC and STATUS: forwarded to IPAM and (GC) to the firewall state.
#include "lib/util/error_list.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/firewall_state.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/network_forward.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {

void cmd_gc(const cni::Request& req, const Deps& deps) {
  const BridgePlan plan = build_bridge_plan(req, PlanUse::Teardown);
  util::ErrorList errors;
  // Rules before addresses, as in DEL. No valid-attachments list means none is valid (types.hpp).
  std::vector<firewall::AttachmentKey> valid;
  for (const auto& a : req.conf.valid_attachments) valid.push_back({req.conf.name, a.container_id, a.ifname});
  StateDir state(plan.state_dir);
  const auto lock = state.lock_if_exists(sys::LockMode::kShared);
  for_each_backend(deps, "firewall GC", errors, [&](firewall::Firewall& fw) { fw.gc(req.conf.name, valid); });
  auto is_valid = [&](const firewall::AttachmentKey& k) {
    for (const auto& v : valid)
      if (v.container_id == k.container_id && v.ifname == k.ifname) return true;
    return false;
  };
  if (lock && errors.empty())  // the state goes only with its rules
    for (const auto& s : state.load_network(req.conf.name))
      if (!is_valid(s.nat.key)) errors.run("remove firewall state", [&] { forget_attachment(deps, state, s.nat.key); });
  errors.run("IPAM GC", [&] { ipam_gc(plan, req); });
  errors.throw_if_any();
}

void cmd_status(const cni::Request& req, const Deps&) {
  const BridgePlan plan = build_bridge_plan(req);
  ipam_status(plan, req);
}

}  // namespace tether::plugin
