// CHECK per spec: IPAM CHECK, then the bridge, the container interface (in the sandbox, with the
// expected MAC), its host peer on the bridge, and the prevResult's addresses and routes.
#include <algorithm>

#include "lib/cni/error.hpp"
#include "lib/net/mac.hpp"
#include "lib/netlink/addr.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netlink/route.hpp"
#include "lib/netns/netns.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/network_forward.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {
namespace {

using netlink::LinkInfo;
using netlink::RtnlSocket;

[[noreturn]] void check_failed(const std::string& what) { throw Error("CHECK: " + what, cni::kInternal); }

LinkInfo check_bridge(RtnlSocket& host, const BridgePlan& plan) {
  auto br = netlink::find_link(host, plan.bridge);
  if (!br) check_failed("bridge '" + plan.bridge + "' does not exist");
  if (br->kind != "bridge") check_failed("link '" + plan.bridge + "' is not a bridge");
  if (plan.promisc && !br->promisc) check_failed("bridge '" + plan.bridge + "' is not in promiscuous mode");
  return *br;
}

// Index of the prevResult interface that is our container interface, or -1.
int container_interface(const cni::Result& prev, const cni::Request& req) {
  for (std::size_t i = 0; i < prev.interfaces.size(); ++i) {
    const auto& itf = prev.interfaces[i];
    if (itf.name == req.env.ifname && !itf.sandbox.empty()) return static_cast<int>(i);
  }
  return -1;
}

// A prevResult may hold other plugins' entries (tether chained after them): the addresses that are
// ours name our container interface, or (as in a result without interfaces) no interface at all.
bool our_ip(const cni::IpConfig& ip, int itf_index) { return !ip.interface || *ip.interface == itf_index; }

// Routes name no interface. One whose gateway lies only in the subnets of another interface's
// addresses is that interface's (an earlier plugin's), not ours to look for on our link. Routes
// without a gateway cannot be told apart and are all checked as ours.
bool other_interfaces_route(const cni::Route& r, const cni::Result& prev, int itf_index) {
  if (!r.gw) return false;
  bool ours = false, other = false;
  for (const auto& ip : prev.ips)
    if (ip.address.contains(*r.gw)) (our_ip(ip, itf_index) ? ours : other) = true;
  return other && !ours;
}

void check_addresses(RtnlSocket& ctr, const LinkInfo& link, const cni::Result& prev, int itf_index) {
  auto have = netlink::list_addresses(ctr, link.index);
  for (const auto& ip : prev.ips) {
    if (!our_ip(ip, itf_index)) continue;
    bool found = std::any_of(have.begin(), have.end(), [&](const auto& a) { return a.prefix == ip.address; });
    if (!found) check_failed("address " + ip.address.to_string() + " missing on '" + link.name + "'");
  }
}

void check_routes(RtnlSocket& ctr, const LinkInfo& link, const cni::Result& prev, int itf_index) {
  for (net::Family f : {net::Family::V4, net::Family::V6}) {
    std::vector<netlink::RouteInfo> have;
    bool loaded = false;
    for (const auto& r : prev.routes) {
      if (r.dst.family() != f || other_interfaces_route(r, prev, itf_index)) continue;
      if (!loaded) have = netlink::list_routes(ctr, f), loaded = true;
      const auto dst = r.dst.network();
      bool found = std::any_of(have.begin(), have.end(), [&](const netlink::RouteInfo& h) {
        return h.dst == dst && h.oif == link.index && (!r.gw || h.gw == r.gw) && (!r.table || h.table == *r.table);
      });
      if (!found) check_failed("route " + dst.to_string() + " missing in the container");
    }
  }
}

}  // namespace

void cmd_check(const cni::Request& req, const Deps& deps) {
  const BridgePlan plan = build_bridge_plan(req);
  if (!req.conf.prev_result) cni::fail(cni::kInvalidConfig, "CHECK: required prevResult missing");
  const cni::Result& prev = *req.conf.prev_result;
  ipam_check(plan, req);

  auto ns = netns::Netns::open(req.env.netns, "CNI_NETNS");
  auto host = RtnlSocket::open();
  auto ctr = RtnlSocket::open_in(ns);
  const LinkInfo br = check_bridge(host, plan);

  int itf = container_interface(prev, req);
  if (itf < 0) check_failed("prevResult has no interface '" + req.env.ifname + "' with a sandbox");
  const auto& expected = prev.interfaces[static_cast<std::size_t>(itf)];
  auto link = netlink::find_link(ctr, req.env.ifname);
  if (!link) check_failed("interface '" + req.env.ifname + "' not found in " + req.env.netns);
  if (!expected.mac.empty() && !net::same_mac(expected.mac, link->mac))
    check_failed("interface '" + link->name + "' has MAC " + link->mac + ", expected " + expected.mac);

  // The peer ifindex (IFLA_LINK) is in the host netns: it must be a port of our bridge.
  auto peer = netlink::find_link(host, link->peer_index);
  if (!peer || peer->master != br.index)
    check_failed("the host end of '" + link->name + "' is not attached to bridge '" + br.name + "'");

  check_addresses(ctr, *link, prev, itf);
  check_routes(ctr, *link, prev, itf);
  if (plan.needs_nat()) {
    // The NAT rules were made from our addresses only (the DNAT target is the first of a family).
    cni::Result ours;
    for (const auto& ip : prev.ips)
      if (our_ip(ip, itf)) ours.ips.push_back(ip);
    firewall::NatPlan nat = make_nat_plan(req, plan, ours);
    if (plan.mac_spoof_check) {
      nat.host_ifname = peer->name;
      nat.spoof_check_mac = net::parse_mac(link->mac);
    }
    open_backend(deps, backend_for(plan))->check(nat);
  }
  if (plan.needs_forward()) {
    std::vector<net::IpPrefix> ips;
    for (const auto& ip : prev.ips)
      if (our_ip(ip, itf)) ips.push_back(ip.address);
    if (!ips.empty()) check_network_forward(deps, forward_plan(plan.network, plan.bridge, ips));
  }
}

}  // namespace tether::plugin
