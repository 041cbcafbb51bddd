#include "lib/firewalld/api.hpp"

#include "lib/net/ip.hpp"
#include "lib/util/error.hpp"

namespace tether::firewalld {

std::string error_code(const std::string& message) {
  const auto colon = message.find(':');
  if (colon == std::string::npos || colon == 0) return {};
  const std::string code = message.substr(0, colon);
  for (char c : code)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return {};
  return code;
}

std::string canonical_source(const std::string& cidr) {
  const auto prefix = net::IpPrefix::parse(cidr);
  if (!prefix) throw Error("firewalld: source '" + cidr + "' is not a subnet in CIDR notation", kInvalidConfig);
  if (!prefix->host_bits_zero())
    throw Error("firewalld: source '" + cidr + "' has host bits set (the subnet is " + prefix->network().to_string() +
                    ")",
                kInvalidConfig);
  return prefix->to_string();
}

}  // namespace tether::firewalld
