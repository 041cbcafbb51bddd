#include "lib/netlink/ip_conv.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "lib/netlink/nl_error.hpp"

namespace tether::netlink::detail {

AddrPtr to_nl_addr(const net::IpAddress& ip, int prefixlen) {
  AddrPtr a(nl_addr_build(ip.is_v4() ? AF_INET : AF_INET6, ip.bytes(), ip.size()));
  if (!a) throw NlError("build address " + ip.to_string(), 0, ENOMEM, {});
  nl_addr_set_prefixlen(a.get(), prefixlen);
  return a;
}

AddrPtr to_nl_prefix(const net::IpPrefix& p) { return to_nl_addr(p.network().address(), p.length()); }

std::optional<net::IpAddress> from_nl_addr(const nl_addr* a) {
  if (!a) return std::nullopt;
  int fam = nl_addr_get_family(a);
  unsigned len = nl_addr_get_len(a);
  const auto* bytes = static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a));
  if (fam == AF_INET && len == 4) return net::IpAddress::from_bytes(net::Family::V4, bytes);
  if (fam == AF_INET6 && len == 16) return net::IpAddress::from_bytes(net::Family::V6, bytes);
  if ((fam == AF_INET || fam == AF_INET6) && len == 0)  // "default": all zeros
    return fam == AF_INET ? net::IpAddress() : *net::IpAddress::parse("::");
  return std::nullopt;
}

}  // namespace tether::netlink::detail
