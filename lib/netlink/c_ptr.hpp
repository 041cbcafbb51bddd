#pragma once
// Internal to lib/netlink: unique_ptr owners for libnl objects. Adopt every new reference at once
// (rtnl_link_get_kernel, rtnl_link_veth_get_peer, nl_addr_build, ...); hold borrowed pointers
// (rtnl_link_get_addr, rtnl_link_get_name) only as locals.
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include <memory>

namespace tether::netlink::detail {

template <auto F>
struct CFree {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p) F(p);
  }
};
template <class T, auto F>
using CPtr = std::unique_ptr<T, CFree<F>>;

using LinkPtr = CPtr<rtnl_link, rtnl_link_put>;
using AddrPtr = CPtr<nl_addr, nl_addr_put>;
using RtAddrPtr = CPtr<rtnl_addr, rtnl_addr_put>;
using RoutePtr = CPtr<rtnl_route, rtnl_route_put>;
using CachePtr = CPtr<nl_cache, nl_cache_free>;
using MsgPtr = CPtr<nl_msg, nlmsg_free>;

}  // namespace tether::netlink::detail
