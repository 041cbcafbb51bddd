#include "lib/net/port_mapping.hpp"

namespace tether::net {

std::optional<L4Proto> parse_l4proto(std::string_view name) {
  auto is = [&](std::string_view want) {
    if (name.size() != want.size()) return false;
    for (std::size_t i = 0; i < want.size(); ++i)
      if ((name[i] | 0x20) != want[i]) return false;
    return true;
  };
  if (is("tcp")) return L4Proto::Tcp;
  if (is("udp")) return L4Proto::Udp;
  if (is("sctp")) return L4Proto::Sctp;
  return std::nullopt;
}

const char* l4proto_name(L4Proto p) {
  switch (p) {
    case L4Proto::Tcp: return "tcp";
    case L4Proto::Udp: return "udp";
    case L4Proto::Sctp: return "sctp";
  }
  return "?";
}

std::string PortMapping::describe() const {
  return std::to_string(host_port) + "/" + l4proto_name(protocol) + " on " +
         (host_ip ? host_ip->to_string() : std::string("all addresses"));
}

}  // namespace tether::net
