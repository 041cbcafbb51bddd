#include "lib/netlink/route.hpp"

#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/route/nexthop.h>
#include <sys/socket.h>

#include <cerrno>

#include "lib/log/log.hpp"
#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/ip_conv.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink {
namespace {
using namespace detail;

std::string describe(const RouteSpec& r) {
  std::string s = "route " + r.dst.network().to_string();
  if (r.gw) s += " via " + r.gw->to_string();
  s += " dev #" + std::to_string(r.oif);
  if (r.table) s += " table " + std::to_string(*r.table);
  return s;
}

RoutePtr build(const RouteSpec& spec) {
  RoutePtr r(rtnl_route_alloc());
  if (!r) throw NlError("allocate route", NLE_NOMEM, ENOMEM, {});
  rtnl_route_set_family(r.get(), spec.dst.address().is_v4() ? AF_INET : AF_INET6);
  AddrPtr dst = to_nl_prefix(spec.dst);
  rtnl_route_set_dst(r.get(), dst.get());
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  if (spec.table) rtnl_route_set_table(r.get(), static_cast<std::uint32_t>(*spec.table));
  if (spec.priority) rtnl_route_set_priority(r.get(), static_cast<std::uint32_t>(*spec.priority));
  if (spec.scope) rtnl_route_set_scope(r.get(), static_cast<std::uint8_t>(*spec.scope));
  if (spec.mtu) rtnl_route_set_metric(r.get(), RTAX_MTU, static_cast<unsigned>(*spec.mtu));
  if (spec.advmss) rtnl_route_set_metric(r.get(), RTAX_ADVMSS, static_cast<unsigned>(*spec.advmss));
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) throw NlError("allocate nexthop", NLE_NOMEM, ENOMEM, {});
  rtnl_route_nh_set_ifindex(nh, spec.oif);
  if (spec.gw) {
    AddrPtr gw = to_nl_addr(*spec.gw, spec.gw->is_v4() ? 32 : 128);
    rtnl_route_nh_set_gateway(nh, gw.get());
  }
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh now
  return r;
}

}  // namespace

bool add_route(RtnlSocket& sk, const RouteSpec& spec, bool tolerate_exists) {
  if (spec.gw && spec.gw->family() != spec.dst.family())
    throw Error("add " + describe(spec) + ": gateway and destination families differ");
  RoutePtr r = build(spec);
  fault::point("netlink: add route");
  sk.clear_error();
  // No NLM_F_EXCL, as the reference (netlink.RouteAddEcmp): a route to a destination that already
  // has one through another interface or gateway is added beside it (a container's second
  // attachment brings its own default route). Only an identical route is EEXIST.
  int rc = rtnl_route_add(sk.get(), r.get(), 0);
  if (rc < 0 && tolerate_exists && sk.errno_of(rc) == EEXIST) return false;
  sk.check(rc, "add " + describe(spec));
  log::debug("added " + describe(spec));
  return true;
}

bool delete_route(RtnlSocket& sk, const RouteSpec& spec) {
  RoutePtr r = build(spec);
  fault::point("netlink: delete route");
  sk.clear_error();
  int rc = rtnl_route_delete(sk.get(), r.get(), 0);
  if (rc < 0) {
    int err = sk.errno_of(rc);
    if (err == ESRCH || err == ENOENT || err == ENODEV) return false;
  }
  sk.check(rc, "delete " + describe(spec));
  return true;
}

namespace {

void append_route(nl_object* o, void* arg) {
  auto* out = static_cast<std::vector<RouteInfo>*>(arg);
  auto* r = reinterpret_cast<rtnl_route*>(o);
  if (rtnl_route_get_type(r) != RTN_UNICAST) return;
  nl_addr* dst = rtnl_route_get_dst(r);
  auto ip = from_nl_addr(dst);
  if (!ip) return;
  RouteInfo info;
  info.dst = net::IpPrefix(*ip, static_cast<int>(nl_addr_get_prefixlen(dst)));
  info.table = static_cast<int>(rtnl_route_get_table(r));
  info.priority = static_cast<int>(rtnl_route_get_priority(r));
  info.scope = rtnl_route_get_scope(r);
  info.protocol = rtnl_route_get_protocol(r);
  std::uint32_t v = 0;
  if (rtnl_route_get_metric(r, RTAX_MTU, &v) == 0) info.mtu = static_cast<int>(v);
  if (rtnl_route_get_metric(r, RTAX_ADVMSS, &v) == 0) info.advmss = static_cast<int>(v);
  // One entry per nexthop: an IPv6 multipath route (same destination and metric through two
  // interfaces) stands for a route through each.
  const int n = rtnl_route_get_nnexthops(r);
  if (n == 0) out->push_back(info);
  for (int i = 0; i < n; ++i) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
    info.oif = rtnl_route_nh_get_ifindex(nh);
    info.gw = from_nl_addr(rtnl_route_nh_get_gateway(nh));
    out->push_back(info);
  }
}

int parse_route_msg(nl_msg* msg, void* arg) {
  nl_msg_parse(msg, append_route, arg);
  return NL_OK;
}

}  // namespace

// Each message parsed on its own, not through a route cache: a cache keeps one route per (family,
// tos, table, dst, priority), so of two default routes through different interfaces (a container
// on two networks) it would show one.
std::vector<RouteInfo> list_routes(RtnlSocket& sk, net::Family family) {
  const int af = family == net::Family::V4 ? AF_INET : AF_INET6;
  std::vector<RouteInfo> out;
  for (int attempt = 1;; ++attempt) {
    out.clear();
    // A whole rtmsg header, as libnl's route cache sends: a strict-checking socket refuses the
    // short rtgenmsg one.
    rtmsg hdr{};
    hdr.rtm_family = static_cast<unsigned char>(af);
    sk.clear_error();
    sk.check(nl_send_simple(sk.get(), RTM_GETROUTE, NLM_F_DUMP, &hdr, sizeof hdr), "dump routes");
    const int rc = sk.receive(parse_route_msg, &out);
    if (rc == -NLE_DUMP_INTR && attempt < 5) continue;  // routes changed mid-dump: read again (5 tries)
    sk.check(rc, "dump routes");
    return out;
  }
}

}  // namespace tether::netlink
