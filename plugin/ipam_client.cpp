#include "plugin/ipam_client.hpp"

#include "lib/cni/delegate.hpp"

namespace tether::plugin {
namespace {

bool in_process(const BridgePlan& p) { return p.ipam_type == ipam::kTypeName; }

// IPAM verbs see CNI_COMMAND of their own verb, as an exec'd plugin would.
cni::Request with_command(const cni::Request& req, cni::Command c) {
  cni::Request r = req;
  r.env.command = c;
  return r;
}

}  // namespace

IpamAdd::IpamAdd(const BridgePlan& plan, const cni::Request& req) : plan_(plan), req_(req) {
  if (in_process(plan)) in_process_ = ipam::prepare_add(req);
}

cni::Result IpamAdd::run() const {
  if (plan_.ipam_type.empty()) return {};
  if (in_process_) return ipam::run_add(*in_process_);
  return cni::delegate_add(plan_.ipam_type, req_);
}

void ipam_del(const BridgePlan& p, const cni::Request& req) {
  if (p.ipam_type.empty()) return;
  cni::Request r = with_command(req, cni::Command::Del);
  if (in_process(p)) return ipam::cmd_del(r);
  cni::delegate_del(p.ipam_type, r);
}

void ipam_check(const BridgePlan& p, const cni::Request& req) {
  if (p.ipam_type.empty()) return;
  if (in_process(p)) return ipam::cmd_check(req);
  cni::delegate_check(p.ipam_type, req);
}

void ipam_gc(const BridgePlan& p, const cni::Request& req) {
  if (p.ipam_type.empty()) return;
  if (in_process(p)) return ipam::cmd_gc(req);
  cni::delegate_gc(p.ipam_type, req);
}

void ipam_status(const BridgePlan& p, const cni::Request& req) {
  if (p.ipam_type.empty()) return;
  if (in_process(p)) return ipam::cmd_status(req);
  cni::delegate_status(p.ipam_type, req);
}

}  // namespace tether::plugin
