#include "lib/netlink/addr.hpp"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <cerrno>
#include <thread>

#include "lib/log/log.hpp"
#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/ip_conv.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink {
namespace {
using namespace detail;

RtAddrPtr build(int ifindex, const net::IpPrefix& addr) {
  RtAddrPtr a(rtnl_addr_alloc());
  if (!a) throw NlError("allocate address", NLE_NOMEM, ENOMEM, {});
  AddrPtr local = to_nl_addr(addr.address(), addr.length());
  rtnl_addr_set_local(a.get(), local.get());  // sets family and prefixlen
  rtnl_addr_set_prefixlen(a.get(), addr.length());
  rtnl_addr_set_ifindex(a.get(), ifindex);
  return a;
}

std::string describe(int ifindex, const net::IpPrefix& addr) {
  return "address " + addr.to_string() + " on link #" + std::to_string(ifindex);
}

}  // namespace

bool add_address(RtnlSocket& sk, int ifindex, const net::IpPrefix& addr, const AddrOptions& opt, bool tolerate_exists) {
  RtAddrPtr a = build(ifindex, addr);
  unsigned flags = 0;
  if (opt.nodad && !addr.address().is_v4()) flags |= IFA_F_NODAD;
  if (opt.noprefixroute) flags |= IFA_F_NOPREFIXROUTE;
  if (flags) rtnl_addr_set_flags(a.get(), flags);
  if (opt.broadcast && addr.address().is_v4() && addr.length() < 31) {
    AddrPtr brd = to_nl_addr(addr.last(), 32);
    rtnl_addr_set_broadcast(a.get(), brd.get());
  }
  fault::point("netlink: add address");
  sk.clear_error();
  int rc = rtnl_addr_add(sk.get(), a.get(), NLM_F_EXCL);
  if (rc < 0 && tolerate_exists && sk.errno_of(rc) == EEXIST) return false;
  sk.check(rc, "add " + describe(ifindex, addr));
  log::debug("added " + describe(ifindex, addr));
  return true;
}

bool delete_address(RtnlSocket& sk, int ifindex, const net::IpPrefix& addr) {
  RtAddrPtr a = build(ifindex, addr);
  fault::point("netlink: delete address");
  sk.clear_error();
  int rc = rtnl_addr_delete(sk.get(), a.get(), 0);
  if (rc < 0) {
    int err = sk.errno_of(rc);
    if (err == EADDRNOTAVAIL || err == ENODEV || err == ENOENT) return false;
  }
  sk.check(rc, "delete " + describe(ifindex, addr));
  log::debug("deleted " + describe(ifindex, addr));
  return true;
}

namespace {

struct DumpState {
  int ifindex;
  std::vector<AddrInfo> out;
};

// One RTM_NEWADDR of the dump → AddrInfo (filtered again here: old kernels ignore the filter).
int on_addr(nl_msg* msg, void* arg) {
  auto* st = static_cast<DumpState*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWADDR) return NL_OK;
  const auto* ifa = static_cast<const ifaddrmsg*>(nlmsg_data(hdr));
  if (static_cast<int>(ifa->ifa_index) != st->ifindex) return NL_OK;
  nlattr* tb[IFA_MAX + 1];
  if (nlmsg_parse(hdr, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0) return NL_OK;
  nlattr* a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];  // v4 peer links: LOCAL is ours
  if (!a) return NL_OK;
  std::optional<net::IpAddress> ip;
  if (ifa->ifa_family == AF_INET && nla_len(a) == 4)
    ip = net::IpAddress::from_bytes(net::Family::V4, static_cast<const std::uint8_t*>(nla_data(a)));
  else if (ifa->ifa_family == AF_INET6 && nla_len(a) == 16)
    ip = net::IpAddress::from_bytes(net::Family::V6, static_cast<const std::uint8_t*>(nla_data(a)));
  if (!ip) return NL_OK;
  unsigned flags = tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
  st->out.push_back({net::IpPrefix(*ip, ifa->ifa_prefixlen), ifa->ifa_scope, flags});
  return NL_OK;
}

}  // namespace

// A kernel-filtered dump (STRICT_CHK + ifaddrmsg.ifa_index): cost independent of how many other
// addresses the netns holds (hundreds of veth link-locals on a busy host). Interrupted dumps are
// thrown away and retried, at most 5 times.
std::vector<AddrInfo> list_addresses(RtnlSocket& sk, int ifindex) {
  sk.enable_strict_check();
  for (int attempt = 0; attempt < 5; ++attempt) {
    MsgPtr msg(nlmsg_alloc_simple(RTM_GETADDR, NLM_F_DUMP));
    if (!msg) throw NlError("allocate netlink message", NLE_NOMEM, ENOMEM, {});
    ifaddrmsg ifa{};
    ifa.ifa_index = static_cast<std::uint32_t>(ifindex);
    if (int rc = nlmsg_append(msg.get(), &ifa, sizeof ifa, NLMSG_ALIGNTO); rc < 0)
      throw NlError("build address dump", rc, 0, {});
    sk.clear_error();
    const std::string op = "dump addresses of link #" + std::to_string(ifindex);
    sk.check(nl_send_auto(sk.get(), msg.get()), op);
    DumpState st{ifindex, {}};
    const int rc = sk.receive(on_addr, &st);
    if (rc == -NLE_DUMP_INTR) continue;
    sk.check(rc, op);
    return st.out;
  }
  throw NlError("dump addresses of link #" + std::to_string(ifindex) + ": interrupted 5 times", NLE_DUMP_INTR, 0, {});
}

DadOutcome wait_ipv6_dad(RtnlSocket& sk, int ifindex, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::optional<AddrInfo> tentative;
    for (const AddrInfo& a : list_addresses(sk, ifindex)) {
      if (a.prefix.address().is_v4()) continue;
      // A failed address stays TENTATIVE too: check DADFAILED first, it ends the wait.
      if (a.flags & IFA_F_DADFAILED) return {DadOutcome::kFailed, a};
      if ((a.flags & IFA_F_TENTATIVE) && !tentative) tentative = a;
    }
    if (!tentative) return {};
    if (std::chrono::steady_clock::now() >= deadline) return {DadOutcome::kTimedOut, *tentative};
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace tether::netlink
