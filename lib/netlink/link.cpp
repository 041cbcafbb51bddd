#include "lib/netlink/link.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <netlink/errno.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdio>

#include "lib/log/log.hpp"
#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/netlink/raw_request.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink {
namespace {
using namespace detail;

constexpr std::size_t kMaxIfname = 15;  // IFNAMSIZ - 1; libnl would silently truncate

void random_bytes(void* buf, std::size_t n) {
  auto* p = static_cast<std::uint8_t*>(buf);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw NlError("getrandom", 0, errno, {});
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

LinkInfo to_info(rtnl_link* l) {
  LinkInfo info;
  info.index = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) info.name = n;
  if (const char* k = rtnl_link_get_type(l)) info.kind = k;
  if (const char* s = rtnl_link_get_slave_type(l)) info.slave_kind = s;
  info.master = rtnl_link_get_master(l);
  info.peer_index = rtnl_link_get_link(l);
  info.mtu = rtnl_link_get_mtu(l);
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == 6) {
    Mac m;
    const auto* b = static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a));
    std::copy(b, b + 6, m.begin());
    info.mac = net::format_mac(m);
  }
  unsigned flags = rtnl_link_get_flags(l);
  info.up = flags & IFF_UP;
  info.promisc = flags & IFF_PROMISC;
  return info;
}

AddrPtr mac_addr(const Mac& m) {
  AddrPtr a(nl_addr_build(AF_LLC, m.data(), m.size()));
  if (!a) throw NlError("build MAC address", NLE_NOMEM, ENOMEM, {});
  return a;
}

std::optional<LinkInfo> get_kernel(RtnlSocket& sk, int index, const char* name) {
  rtnl_link* raw = nullptr;
  sk.clear_error();
  int rc = rtnl_link_get_kernel(sk.get(), index, name, &raw);
  LinkPtr l(raw);
  if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND) return std::nullopt;
  sk.check(rc, name ? std::string("get link '") + name + "'" : "get link #" + std::to_string(index));
  return to_info(l.get());
}

// Applies `changes` (flags/mtu/addr) to link `index` with RTM_NEWLINK (libnl falls back to SETLINK).
void change_link(RtnlSocket& sk, int index, rtnl_link* changes, const std::string& op) {
  LinkPtr orig(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), index);
  fault::point("netlink: change link");
  sk.clear_error();
  sk.check(rtnl_link_change(sk.get(), orig.get(), changes, 0), op);
}

std::string random_veth_name() {
  std::uint32_t r;
  random_bytes(&r, sizeof r);
  char buf[16];
  std::snprintf(buf, sizeof buf, "veth%08x", r);
  return buf;
}

}  // namespace

Mac random_mac() {
  Mac m;
  random_bytes(m.data(), m.size());
  m[0] = static_cast<std::uint8_t>((m[0] & 0xfe) | 0x02);  // unicast, locally administered
  return m;
}

std::optional<LinkInfo> find_link(RtnlSocket& sk, const std::string& name) {
  if (name.empty() || name.size() > kMaxIfname) return std::nullopt;
  return get_kernel(sk, 0, name.c_str());
}

std::optional<LinkInfo> find_link(RtnlSocket& sk, int index) {
  if (index <= 0) return std::nullopt;
  return get_kernel(sk, index, nullptr);
}

std::vector<LinkInfo> list_links(RtnlSocket& sk) {
  nl_cache* raw = nullptr;
  sk.clear_error();
  sk.check(rtnl_link_alloc_cache(sk.get(), AF_UNSPEC, &raw), "dump links");
  CachePtr cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
    out.push_back(to_info(reinterpret_cast<rtnl_link*>(o)));
  return out;
}

EnsuredBridge ensure_bridge(RtnlSocket& sk, const BridgeSpec& spec) {
  const std::string what = "bridge '" + spec.name + "'";
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (auto l = find_link(sk, spec.name)) {
      if (l->kind != "bridge")
        throw NotABridgeError(what + ": an existing link of that name is not a bridge (kind '" +
                              (l->kind.empty() ? std::string("none") : l->kind) + "')");
      if (!l->up) set_link_up(sk, l->index);
      if (spec.promisc && !l->promisc) set_link_promisc(sk, l->index, true);
      return {*l, false};
    }
    LinkPtr br(rtnl_link_bridge_alloc());
    rtnl_link_set_name(br.get(), spec.name.c_str());
    if (spec.mtu) rtnl_link_set_mtu(br.get(), *spec.mtu);
    // An explicitly set address (NET_ADDR_SET) stops the bridge from taking its ports' lowest MAC.
    AddrPtr mac = mac_addr(random_mac());
    rtnl_link_set_addr(br.get(), mac.get());
    rtnl_link_set_flags(br.get(), IFF_UP | (spec.promisc ? IFF_PROMISC : 0));
    fault::point("netlink: create bridge");
    sk.clear_error();
    int rc = rtnl_link_add(sk.get(), br.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (rc == 0) {
      auto l = find_link(sk, spec.name);
      if (!l) throw Error(what + ": vanished right after creation");
      log::debug("created " + what);
      return {*l, true};
    }
    if (sk.errno_of(rc) != EEXIST) sk.fail(rc, "create " + what);
    // A concurrent ADD created it first: adopt theirs on the next pass.
  }
  throw Error(what + ": could not create or find it (kept racing with other creators)");
}

void enable_vlan_filtering(RtnlSocket& sk, int bridge_index, const std::string& bridge_name) {
  MsgPtr msg = link_request(RTM_NEWLINK, AF_UNSPEC, bridge_index);
  nlattr* info = nla_nest_start(msg.get(), IFLA_LINKINFO);
  check_put(info ? 0 : -NLE_NOMEM, "IFLA_LINKINFO");
  check_put(nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge"), "IFLA_INFO_KIND");
  nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
  check_put(data ? 0 : -NLE_NOMEM, "IFLA_INFO_DATA");
  check_put(nla_put_u8(msg.get(), IFLA_BR_VLAN_FILTERING, 1), "IFLA_BR_VLAN_FILTERING");
  nla_nest_end(msg.get(), data);
  nla_nest_end(msg.get(), info);
  int rc = send_request(sk, std::move(msg));
  if (rc < 0 && sk.errno_of(rc) == EOPNOTSUPP)
    throw NlError("enable vlan_filtering on bridge '" + bridge_name +
                      "': the kernel lacks bridge VLAN filtering (CONFIG_BRIDGE_VLAN_FILTERING)",
                  rc, EOPNOTSUPP, {});
  sk.check(rc, "enable vlan_filtering on bridge '" + bridge_name + "'");
}

VethPair create_veth(RtnlSocket& host, RtnlSocket& container, const VethSpec& spec) {
  const std::string& ifname = spec.container_ifname;
  for (int attempt = 0; attempt < spec.max_attempts; ++attempt) {
    const std::string host_name = random_veth_name();
    LinkPtr veth(rtnl_link_veth_alloc());
    if (!veth) throw NlError("allocate veth", NLE_NOMEM, ENOMEM, {});
    rtnl_link_set_name(veth.get(), host_name.c_str());
    if (spec.master) rtnl_link_set_master(veth.get(), spec.master);
    // Both ends down: a port enslaved while down costs the bridge no port-state pass now and
    // another when the kernel notices it has no carrier (each O(ports)); the caller brings it up.
    if (spec.mtu) rtnl_link_set_mtu(veth.get(), *spec.mtu);
    LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));  // +1 ref; the primary owns the peer
    rtnl_link_set_name(peer.get(), ifname.c_str());
    if (spec.mtu) rtnl_link_set_mtu(peer.get(), *spec.mtu);
    AddrPtr mac;
    if (spec.container_mac) {
      mac = mac_addr(*spec.container_mac);
      rtnl_link_set_addr(peer.get(), mac.get());
    }
    // IFF_UP must not be set on the peer: the kernel would open it before the pair is linked.
    rtnl_link_set_ns_fd(peer.get(), spec.container_netns_fd);
    fault::point("netlink: add veth");
    host.clear_error();
    int rc = rtnl_link_add(host.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL);
    const std::string op = "add veth '" + host_name + "' <-> '" + ifname + "'";
    if (rc == 0) {
      auto h = find_link(host, host_name);
      auto c = find_link(container, ifname);
      if (!h || !c) throw Error(op + ": an end vanished right after creation");
      log::debug("created veth " + host_name + " <-> " + ifname);
      return {*h, *c};
    }
    if (host.errno_of(rc) != EEXIST) host.fail(rc, op);
    // EEXIST does not say which end clashed: look.
    if (find_link(container, ifname))
      throw Error("container interface '" + ifname + "' (CNI_IFNAME) already exists in the container netns");
    log::debug(op + ": host name taken, retrying with another");
  }
  throw Error("add veth for '" + ifname + "': no free host-side name after " + std::to_string(spec.max_attempts) +
              " attempts");
}

void set_link_up(RtnlSocket& sk, int index, bool up) {
  LinkPtr ch(rtnl_link_alloc());
  if (up)
    rtnl_link_set_flags(ch.get(), IFF_UP);
  else
    rtnl_link_unset_flags(ch.get(), IFF_UP);
  change_link(sk, index, ch.get(), std::string("set link #") + std::to_string(index) + (up ? " up" : " down"));
}

void set_link_promisc(RtnlSocket& sk, int index, bool on) {
  LinkPtr ch(rtnl_link_alloc());
  if (on)
    rtnl_link_set_flags(ch.get(), IFF_PROMISC);
  else
    rtnl_link_unset_flags(ch.get(), IFF_PROMISC);
  change_link(sk, index, ch.get(), "set promisc on link #" + std::to_string(index));
}

void set_link_mtu(RtnlSocket& sk, int index, std::uint32_t mtu) {
  LinkPtr ch(rtnl_link_alloc());
  rtnl_link_set_mtu(ch.get(), mtu);
  change_link(sk, index, ch.get(), "set mtu " + std::to_string(mtu) + " on link #" + std::to_string(index));
}

namespace {
bool delete_by(RtnlSocket& sk, rtnl_link* l, const std::string& what) {
  fault::point("netlink: delete link");
  sk.clear_error();
  int rc = rtnl_link_delete(sk.get(), l);
  if (rc < 0 && sk.errno_of(rc) == ENODEV) return false;  // documented as OBJ_NOTFOUND, really NODEV
  sk.check(rc, "delete link " + what);
  log::debug("deleted link " + what);
  return true;
}
}  // namespace

bool delete_link(RtnlSocket& sk, const std::string& name) {
  if (name.empty() || name.size() > kMaxIfname) return false;
  LinkPtr l(rtnl_link_alloc());
  rtnl_link_set_name(l.get(), name.c_str());
  return delete_by(sk, l.get(), "'" + name + "'");
}

bool delete_link(RtnlSocket& sk, int index) {
  if (index <= 0) return false;
  LinkPtr l(rtnl_link_alloc());
  rtnl_link_set_ifindex(l.get(), index);
  return delete_by(sk, l.get(), std::string("#").append(std::to_string(index)));
}

}  // namespace tether::netlink
