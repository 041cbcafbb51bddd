#include "plugin/firewall_plan.hpp"

#include "lib/cni/error.hpp"
#include "lib/fw_iptables/iptables_firewall.hpp"
#include "lib/fw_nftables/nftables_firewall.hpp"
#include "lib/util/error_list.hpp"

namespace tether::plugin {

firewall::AttachmentKey attachment_key(const cni::Request& req) {
  return {req.conf.name, req.env.container_id, req.env.ifname};
}

firewall::NatPlan make_nat_plan(const cni::Request& req, const BridgePlan& plan, const cni::Result& res) {
  firewall::NatPlan nat;
  nat.key = attachment_key(req);
  nat.ip_masq = plan.ip_masq;
  for (const auto& ip : res.ips) nat.container_ips.push_back(ip.address);
  nat.port_mappings = plan.port_mappings;
  return nat;
}

firewall::Backend choose_backend(BackendChoice choice) {
  switch (choice) {
    case BackendChoice::Iptables: return firewall::Backend::Iptables;
    case BackendChoice::Nftables:
      if (!firewall::nftables_available())
        cni::invalid_config("firewallBackend", "value 'nftables': this kernel has no nf_tables (nfnetlink / "
                                               "nf_tables modules missing); use 'iptables' or 'auto'");
      return firewall::Backend::Nftables;
    case BackendChoice::Auto: break;
  }
  if (firewall::legacy_nat_in_use()) return firewall::Backend::Iptables;
  return firewall::nftables_available() ? firewall::Backend::Nftables : firewall::Backend::Iptables;
}

firewall::Backend backend_for(const BridgePlan& plan) {
  if (!plan.mac_spoof_check) return choose_backend(plan.firewall_backend);
  if (plan.firewall_backend == BackendChoice::Iptables)
    cni::invalid_config("macspoofchk", "value true: needs the nftables firewall backend, but firewallBackend is "
                                       "'iptables' (the libiptc backend has no MAC spoof check)");
  if (plan.firewall_backend == BackendChoice::Auto && !firewall::nftables_available())
    cni::invalid_config("macspoofchk", "value true: needs nftables, which this kernel does not have");
  return firewall::Backend::Nftables;
}

std::unique_ptr<firewall::Firewall> open_backend(const Deps& deps, firewall::Backend backend) {
  auto fw = deps.make_firewall(backend);
  if (!fw)
    cni::invalid_config("firewallBackend", std::string("value '") + firewall::backend_name(backend) +
                                               "': not available in this build of tether");
  return fw;
}

std::vector<std::unique_ptr<firewall::Firewall>> for_each_backend(const Deps& deps, const std::string& what,
                                                                  util::ErrorList& errors,
                                                                  const std::function<void(firewall::Firewall&)>& fn) {
  std::vector<std::unique_ptr<firewall::Firewall>> used;
  for (auto backend : {firewall::Backend::Iptables, firewall::Backend::Nftables}) {
    errors.run(what + " (" + firewall::backend_name(backend) + ")", [&] {
      auto fw = deps.make_firewall(backend);
      if (!fw) return;
      used.push_back(std::move(fw));
      fn(*used.back());
    });
  }
  return used;
}

std::unique_ptr<firewall::Firewall> make_firewall(firewall::Backend backend) {
  if (backend == firewall::Backend::Iptables) return firewall::make_iptables_firewall();
  return firewall::make_nftables_firewall();
}

}  // namespace tether::plugin
