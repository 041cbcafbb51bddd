#include "lib/netlink/devconf.hpp"

#include <linux/if_addr.h>
#include <linux/ip.h>
#include <linux/netconf.h>
#include <netlink/netlink.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/link/inet6.h>
#include <netlink/route/netconf.h>

#include <cerrno>
#include <string>

#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink {
namespace {
using namespace detail;

std::string link_name(int index) { return "link #" + std::to_string(index); }

}  // namespace

void change_link_af(RtnlSocket& sk, int index, const LinkAfChange& change) {
  if (change.empty()) return;
  LinkPtr orig(rtnl_link_alloc()), ch(rtnl_link_alloc());
  if (!orig || !ch) throw NlError("allocate link", NLE_NOMEM, ENOMEM, {});
  rtnl_link_set_ifindex(orig.get(), index);
  const std::string op = "set IP settings of " + link_name(index);
  auto put = [&](int rc) {
    if (rc < 0) throw NlError(op, rc, 0, {});
  };
  if (change.arp_notify) put(rtnl_link_inet_set_conf(ch.get(), IPV4_DEVCONF_ARP_NOTIFY, *change.arp_notify));
  if (change.route_localnet)
    put(rtnl_link_inet_set_conf(ch.get(), IPV4_DEVCONF_ROUTE_LOCALNET, *change.route_localnet));
  if (change.ipv6_no_link_local) put(rtnl_link_inet6_set_addr_gen_mode(ch.get(), IN6_ADDR_GEN_MODE_NONE));
  fault::point("netlink: change link");
  sk.clear_error();
  const int rc = rtnl_link_change(sk.get(), orig.get(), ch.get(), 0);
  if (rc < 0 && change.ipv6_no_link_local && sk.errno_of(rc) == EAFNOSUPPORT) {
    // No IPv6 in this kernel (ipv6.disable=1): no link-local address to prevent either.
    LinkAfChange v4_only = change;
    v4_only.ipv6_no_link_local = false;
    return change_link_af(sk, index, v4_only);
  }
  sk.check(rc, op);
}

bool route_localnet_enabled(RtnlSocket& sk, int index) {
  rtnl_link* raw = nullptr;
  sk.clear_error();
  int rc = rtnl_link_get_kernel(sk.get(), index, nullptr, &raw);
  LinkPtr l(raw);
  sk.check(rc, "get " + link_name(index));
  std::uint32_t v = 0;
  if (rtnl_link_inet_get_conf(l.get(), IPV4_DEVCONF_ROUTE_LOCALNET, &v) < 0)
    throw NlError("read route_localnet of " + link_name(index) + ": no IPv4 settings in the reply", NLE_NOATTR, 0, {});
  return v != 0;
}

bool forwarding_enabled(RtnlSocket& sk, net::Family family) {
  // libnl reads netconf only through a cache (a dump of every device); one GET is enough here,
  // and libnl's own parser decodes the reply.
  const int af = family == net::Family::V4 ? AF_INET : AF_INET6;
  const std::string op = std::string("read ") +
                         (af == AF_INET ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding");
  MsgPtr msg(nlmsg_alloc_simple(RTM_GETNETCONF, 0));
  if (!msg) throw NlError("allocate netlink message", NLE_NOMEM, ENOMEM, {});
  netconfmsg ncm{};
  ncm.ncm_family = static_cast<unsigned char>(af);
  if (nlmsg_append(msg.get(), &ncm, sizeof ncm, NLMSG_ALIGNTO) < 0 ||
      nla_put_s32(msg.get(), NETCONFA_IFINDEX, NETCONFA_IFINDEX_ALL) < 0)
    throw NlError(op + ": build request", NLE_NOMEM, ENOMEM, {});
  sk.clear_error();
  sk.check(nl_send_auto(sk.get(), msg.get()), op);

  int forwarding = -1;
  const int rc = sk.receive(
      [](nl_msg* m, void* out) -> int {
        nl_msg_parse(
            m,
            [](nl_object* obj, void* o) {
              int v = 0;
              if (rtnl_netconf_get_forwarding(reinterpret_cast<rtnl_netconf*>(obj), &v) == 0) *static_cast<int*>(o) = v;
            },
            out);
        return NL_OK;
      },
      &forwarding);
  sk.check(rc, op);
  sk.check(nl_wait_for_ack(sk.get()), op);
  if (forwarding < 0) throw NlError(op + ": the reply has no forwarding attribute", NLE_NOATTR, 0, {});
  return forwarding != 0;
}

}  // namespace tether::netlink
