#pragma once
// Internal to lib/netlink: net::IpAddress <-> nl_addr.
#include <optional>

#include "lib/net/ip.hpp"
#include "lib/netlink/c_ptr.hpp"

namespace tether::netlink::detail {

AddrPtr to_nl_addr(const net::IpAddress& ip, int prefixlen);
AddrPtr to_nl_prefix(const net::IpPrefix& p);                  // host bits cleared
std::optional<net::IpAddress> from_nl_addr(const nl_addr* a);  // nullopt for non-IP / null

}  // namespace tether::netlink::detail
