#include "lib/netlink/bridge_port.hpp"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <netlink/errno.h>
#include <netlink/route/link/bridge.h>
#include <sys/socket.h>

#include <cerrno>

#include "lib/log/log.hpp"
#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/netlink/raw_request.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink {
namespace {
using namespace detail;

std::string port_name(int index) { return std::string("bridge port #").append(std::to_string(index)); }

// One VLAN add/delete request: RTM_SETLINK adds, RTM_DELLINK removes (family AF_BRIDGE).
void vlan_request(RtnlSocket& sk, int type, int port, std::uint16_t flags, const VlanRange& r) {
  MsgPtr msg = link_request(type, AF_BRIDGE, port);
  nlattr* spec = nla_nest_start(msg.get(), IFLA_AF_SPEC);
  check_put(spec ? 0 : -NLE_NOMEM, "IFLA_AF_SPEC");
  auto put = [&](std::uint16_t f, int vid) {
    bridge_vlan_info info{};
    info.flags = f;
    info.vid = static_cast<std::uint16_t>(vid);
    check_put(nla_put(msg.get(), IFLA_BRIDGE_VLAN_INFO, sizeof info, &info), "IFLA_BRIDGE_VLAN_INFO");
  };
  if (r.min == r.max) {
    put(flags, r.min);
  } else {
    put(static_cast<std::uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN), r.min);
    put(static_cast<std::uint16_t>(flags | BRIDGE_VLAN_INFO_RANGE_END), r.max);
  }
  nla_nest_end(msg.get(), spec);
  std::string op = type == RTM_DELLINK ? "remove VLAN " : "add VLAN ";
  op += std::to_string(r.min);
  if (r.min != r.max) op.append("-").append(std::to_string(r.max));
  op.append(" on ").append(port_name(port));
  int rc = send_request(sk, std::move(msg));
  if (rc < 0 && sk.errno_of(rc) == EOPNOTSUPP)
    throw NlError(op + ": the kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)", rc, EOPNOTSUPP, {});
  sk.check(rc, op);
}

}  // namespace

void set_port_hairpin(RtnlSocket& sk, int port_index, bool on) {
  // Both objects must be AF_BRIDGE: libnl aborts on a family mismatch (APPBUG).
  LinkPtr orig(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), port_index);
  rtnl_link_set_family(orig.get(), AF_BRIDGE);
  LinkPtr ch(rtnl_link_alloc());
  rtnl_link_set_family(ch.get(), AF_BRIDGE);
  if (on)
    rtnl_link_bridge_set_flags(ch.get(), RTNL_BRIDGE_HAIRPIN_MODE);
  else
    rtnl_link_bridge_unset_flags(ch.get(), RTNL_BRIDGE_HAIRPIN_MODE);
  fault::point("netlink: set hairpin");
  sk.clear_error();
  sk.check(rtnl_link_change(sk.get(), orig.get(), ch.get(), 0), "set hairpin on " + port_name(port_index));
  log::debug("set hairpin on " + port_name(port_index));
}

void set_port_isolated(RtnlSocket& sk, int port_index, bool on) {
  MsgPtr msg = link_request(RTM_SETLINK, AF_BRIDGE, port_index);
  // Must be a NESTED attribute (nla_nest_start adds the flag): a bare u8 is the legacy STP form.
  nlattr* info = nla_nest_start(msg.get(), IFLA_PROTINFO);
  check_put(info ? 0 : -NLE_NOMEM, "IFLA_PROTINFO");
  check_put(nla_put_u8(msg.get(), IFLA_BRPORT_ISOLATED, on ? 1 : 0), "IFLA_BRPORT_ISOLATED");
  nla_nest_end(msg.get(), info);
  int rc = send_request(sk, std::move(msg));
  sk.check(rc, "set isolated on " + port_name(port_index));
  log::debug("set isolated on " + port_name(port_index));
}

void set_port_vlans(RtnlSocket& sk, int port_index, const PortVlans& v) {
  if (!v.preserve_default) vlan_request(sk, RTM_DELLINK, port_index, 0, {1, 1});
  const auto access = static_cast<std::uint16_t>(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
  if (v.pvid) vlan_request(sk, RTM_SETLINK, port_index, access, {v.pvid, v.pvid});
  for (const auto& r : v.trunk) vlan_request(sk, RTM_SETLINK, port_index, 0, r);
  if (!v.pvid && !v.trunk.empty()) vlan_request(sk, RTM_SETLINK, port_index, access, {1, 1});
}

}  // namespace tether::netlink
