#pragma once
// The plugin's side of the firewall: BridgePlan + addresses → the backend-neutral NatPlan, which
// backend a call uses, and the sweep DEL and GC run over every backend.
#include <functional>
#include <memory>
#include <vector>

#include "lib/cni/skel.hpp"
#include "lib/firewall/firewall.hpp"
#include "lib/util/error_list.hpp"
#include "plugin/config.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {

firewall::AttachmentKey attachment_key(const cni::Request& req);
firewall::NatPlan make_nat_plan(const cni::Request& req, const BridgePlan& plan, const cni::Result& res);

// The backend ADD and CHECK use. Auto: libiptc only where legacy x_tables are demonstrably in use
// in this netns (its legacy nat table exists: kube-proxy or Docker in legacy mode, or our own
// earlier rules), else nftables when the kernel has it, else libiptc. Decided from
// /proc/net/ip{,6}_tables_names and one netlink probe: nothing is created to find out.
// An explicit backend the host or build cannot serve: code 7 naming firewallBackend.
firewall::Backend choose_backend(BackendChoice choice);
// The backend for this plan's attachment: choose_backend, except that macspoofchk (a bridge-family
// nftables table; x_tables has no equivalent tether writes) makes `auto` prefer nftables and
// refuses an explicit iptables (code 7 naming macspoofchk).
firewall::Backend backend_for(const BridgePlan& plan);
// That backend from deps; throws (code 7) when the build has none.
std::unique_ptr<firewall::Firewall> open_backend(const Deps& deps, firewall::Backend backend);

// Runs `fn` on every backend this build has (DEL and GC: the attachment may have been made under
// another config or on a host that chose differently). Each backend's own calls are cheap when it
// holds nothing. Failures are collected per backend, never stop the next. Returns the firewalls
// it used: DEL keeps them to its end (closing an nftables socket right after a commit waits for
// the kernel's deferred release of the batch).
std::vector<std::unique_ptr<firewall::Firewall>> for_each_backend(const Deps& deps, const std::string& what,
                                                                  util::ErrorList& errors,
                                                                  const std::function<void(firewall::Firewall&)>& fn);

// Production factory for Deps::make_firewall.
std::unique_ptr<firewall::Firewall> make_firewall(firewall::Backend backend);

}  // namespace tether::plugin
