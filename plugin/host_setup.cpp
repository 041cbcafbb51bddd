#include "plugin/host_setup.hpp"

#include "lib/netlink/addr.hpp"
#include "lib/netlink/devconf.hpp"
#include "lib/sys/sysctl.hpp"
#include "lib/util/error.hpp"

namespace tether::plugin {
namespace {

// Returns true when `want` is already on the bridge; throws or removes conflicting addresses.
bool reconcile(netlink::RtnlSocket& host, const netlink::LinkInfo& br, const net::IpPrefix& want, bool force) {
  for (const auto& a : netlink::list_addresses(host, br.index)) {
    if (a.prefix.family() != want.family()) continue;
    if (a.prefix == want) return true;
    // Several IPv6 addresses may coexist when their subnets do not overlap (link-local among them).
    if (!want.address().is_v4() && !a.prefix.overlaps(want)) continue;
    if (!force)
      throw Error("bridge '" + br.name + "' already has an IP address " + a.prefix.to_string() +
                  " different from the gateway " + want.to_string() + " (set forceAddress to replace it)");
    netlink::delete_address(host, br.index, a.prefix);
  }
  return false;
}

}  // namespace

std::vector<net::IpPrefix> ensure_gateway_addresses(netlink::RtnlSocket& host, const netlink::LinkInfo& bridge,
                                                    const cni::Result& res, const BridgePlan& plan) {
  std::vector<net::IpPrefix> added;
  if (!plan.is_gateway) return added;
  for (const auto& ip : res.ips) {
    if (!ip.gateway) continue;
    net::IpPrefix want(*ip.gateway, ip.address.length());
    if (reconcile(host, bridge, want, plan.force_address)) continue;
    netlink::AddrOptions opt;
    opt.nodad = true;  // the gateway must answer at once, not after ~1 s of DAD
    if (netlink::add_address(host, bridge.index, want, opt, /*tolerate_exists=*/true)) added.push_back(want);
  }
  return added;
}

void enable_forwarding(netlink::RtnlSocket& host, const cni::Result& res) {
  bool v4 = false, v6 = false;
  for (const auto& ip : res.ips) (ip.address.address().is_v4() ? v4 : v6) = true;
  // Read through netlink (cheap with many netns); the rare write has no netlink form.
  if (v4 && !netlink::forwarding_enabled(host, net::Family::V4)) sys::write_sysctl("net/ipv4/ip_forward", "1");
  if (v6 && !netlink::forwarding_enabled(host, net::Family::V6)) sys::write_sysctl("net/ipv6/conf/all/forwarding", "1");
}

void disable_accept_ra(const std::string& ifname) {
  sys::write_sysctl_if_exists("net/ipv6/conf/" + ifname + "/accept_ra", "0");
}

bool bridge_has_ports(netlink::RtnlSocket& host, int bridge_index, int except_index) {
  for (const auto& l : netlink::list_links(host))
    if (l.master == bridge_index && l.index != except_index) return true;
  return false;
}

}  // namespace tether::plugin
