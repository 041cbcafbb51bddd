#include "plugin/container_setup.hpp"

#include "lib/cni/error.hpp"
#include "lib/log/log.hpp"
#include "lib/netlink/addr.hpp"
#include "lib/netlink/devconf.hpp"
#include "lib/netlink/route.hpp"
#include "lib/sys/sysctl.hpp"

namespace tether::plugin {
namespace {

bool has_family(const cni::Result& res, net::Family f) {
  for (const auto& ip : res.ips)
    if (ip.address.family() == f) return true;
  return false;
}

// IPv6 settings netlink cannot write. Must run inside the container netns (/proc/sys resolves per
// thread at open); only for attachments with IPv6 addresses, since each path walk is costly on a
// node with many namespaces (see lib/netlink/devconf.hpp).
void container_ipv6_sysctls(const std::string& ifname, const BridgePlan& plan) {
  const std::string v6 = "net/ipv6/conf/" + ifname + "/";
  sys::write_sysctl_if_exists("net/ipv6/conf/lo/disable_ipv6", "0");
  sys::write_sysctl(v6 + "disable_ipv6", "0");
  sys::write_sysctl(v6 + "keep_addr_on_down", "1");
  // DAD off unless asked for (addresses also carry NODAD then): no ~1 s tentative phase.
  if (plan.enable_dad) {
    sys::write_sysctl_if_exists(v6 + "enhanced_dad", "1");
    sys::write_sysctl_if_exists(v6 + "accept_dad", "1");
  } else {
    sys::write_sysctl_if_exists(v6 + "accept_dad", "0");
  }
}

// DAD normally ends in rand(0..rtr_solicit_delay=1 s) + dad_transmits(1) x retrans_time(1 s) <= 2 s
// after link up; 5 s (as the reference's bound) leaves room for a busy node without letting a
// stuck link hold the ADD for long. Polled every 20 ms: one small kernel-filtered dump each.
constexpr std::chrono::milliseconds kDadTimeout{5000};
constexpr std::chrono::milliseconds kDadPoll{20};

// With enabledad, the addresses are tentative (unusable as a source: "Cannot assign requested
// address") until DAD ends: return only once they are usable. A duplicate fails the ADD.
void wait_for_dad(netlink::RtnlSocket& ctr, const netlink::LinkInfo& link) {
  const netlink::DadOutcome dad = netlink::wait_ipv6_dad(ctr, link.index, kDadTimeout, kDadPoll);
  const std::string where = " on " + link.name + " in the container";
  switch (dad.kind) {
    case netlink::DadOutcome::kSettled: return;
    case netlink::DadOutcome::kFailed:
      throw Error("IPv6 duplicate address detection failed for " + dad.addr.prefix.to_string() + where +
                      ": another node on the link already uses this address",
                  cni::kInternal);
    case netlink::DadOutcome::kTimedOut:
      throw Error("IPv6 address " + dad.addr.prefix.to_string() + where + " still tentative (DAD not done) after " +
                      std::to_string(kDadTimeout.count()) + " ms",
                  cni::kInternal);
  }
}

std::optional<net::IpAddress> family_gateway(const cni::Result& res, net::Family f) {
  for (const auto& ip : res.ips)
    if (ip.address.family() == f && ip.gateway) return ip.gateway;
  return std::nullopt;
}

}  // namespace

void complete_gateways(cni::Result& res, const BridgePlan& plan) {
  if (!plan.is_gateway) return;
  for (auto& ip : res.ips)
    if (!ip.gateway) ip.gateway = ip.address.network().address().next();
  if (!plan.is_default_gateway) return;
  for (net::Family f : {net::Family::V4, net::Family::V6}) {
    auto gw = family_gateway(res, f);
    if (!gw) continue;
    bool has_default = false;
    for (const auto& r : res.routes) has_default = has_default || (r.dst.family() == f && r.dst.length() == 0 && r.gw);
    if (has_default) continue;
    cni::Route def;
    def.dst = net::IpPrefix(f == net::Family::V4 ? net::IpAddress() : *net::IpAddress::parse("::"), 0);
    def.gw = gw;
    res.routes.push_back(def);
  }
}

void configure_container(const netns::Netns& ns, netlink::RtnlSocket& ctr, const netlink::LinkInfo& link,
                         const cni::Result& res, const BridgePlan& plan) {
  if (has_family(res, net::Family::V6)) {
    netns::NetnsGuard guard(ns);
    container_ipv6_sysctls(link.name, plan);
  }
  netlink::LinkAfChange af;
  af.arp_notify = 1;  // announce the address when the link comes up (as the reference)
  // An IPv4-only attachment gets no fe80:: either (IPv6 itself stays enabled): otherwise each new
  // container's DAD, MLD reports and router solicitations are flooded to every port of the
  // bridge, a cost that grows with every container on the node (~45% of a 2-CPU node's time
  // during a 1,000-container ramp). An L2-only one (no IPs from us) keeps it: it may use SLAAC.
  af.ipv6_no_link_local = has_family(res, net::Family::V4) && !has_family(res, net::Family::V6);
  netlink::change_link_af(ctr, link.index, af);
  netlink::AddrOptions opt;
  opt.nodad = !plan.enable_dad;
  for (const auto& ip : res.ips) netlink::add_address(ctr, link.index, ip.address, opt);
  if (!plan.disable_container_interface) netlink::set_link_up(ctr, link.index);
  // DAD starts at link up (a down link never ends it). Waited for before the routes, as the
  // reference: a duplicate stops the ADD before anything more is set up.
  if (plan.enable_dad && has_family(res, net::Family::V6) && !plan.disable_container_interface) wait_for_dad(ctr, link);
  // Routes need the link up (IPv4 refuses a gateway on a down device).
  for (const auto& r : res.routes) {
    netlink::RouteSpec spec;
    spec.dst = r.dst.network();
    spec.gw = r.gw ? r.gw : family_gateway(res, r.dst.family());
    spec.oif = link.index;
    spec.mtu = r.mtu;
    spec.advmss = r.advmss;
    spec.priority = r.priority;
    spec.table = r.table;
    spec.scope = r.scope;
    // An identical route is there already (listed twice, or from a chained plugin): the first
    // one stays, as in the reference.
    if (!netlink::add_route(ctr, spec, /*tolerate_exists=*/true))
      log::info("route " + spec.dst.to_string() + " exists already in the container, kept");
  }
}

}  // namespace tether::plugin
