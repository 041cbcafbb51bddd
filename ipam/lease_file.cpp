#include "ipam/lease_file.hpp"

#include "lib/cni/env.hpp"

namespace tether::ipam {

std::string lease_content(const Owner& owner) {
  return owner.ifname.empty() ? owner.container_id : owner.container_id + "\r\n" + owner.ifname;
}

std::optional<Owner> parse_lease_content(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto b = text.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return std::nullopt;
  text = text.substr(b, text.find_last_not_of(kSpace) - b + 1);
  Owner o;
  const auto sep = text.find("\r\n");
  if (sep == std::string_view::npos) {
    o.container_id = std::string(text);
  } else {
    o.container_id = std::string(text.substr(0, sep));
    o.ifname = std::string(text.substr(sep + 2));
    if (!cni::valid_ifname(o.ifname)) return std::nullopt;
  }
  if (!cni::valid_name(o.container_id)) return std::nullopt;
  return o;
}

std::optional<net::IpAddress> parse_lease_name(std::string_view name) {
  auto ip = net::IpAddress::parse(name);
  // Only the canonical spelling is a lease file (a "10.0.0.05"-style name is someone else's file).
  if (!ip || ip->to_string() != name) return std::nullopt;
  return ip;
}

}  // namespace tether::ipam
