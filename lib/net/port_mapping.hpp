#pragma once
// One published port (the CNI `portMappings` capability), validated where it is parsed
// (lib/cni/conf.cpp): every holder of a PortMapping may rely on its invariants.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/net/ip.hpp"

namespace tether::net {

enum class L4Proto : std::uint8_t { Tcp = 6, Udp = 17, Sctp = 132 };  // IANA protocol numbers

std::optional<L4Proto> parse_l4proto(std::string_view name);  // "tcp" / "udp" / "sctp", any case
const char* l4proto_name(L4Proto p);                          // "tcp", ...

struct PortMapping {
  std::uint16_t host_port = 0;       // 1-65535
  std::uint16_t container_port = 0;  // 1-65535
  L4Proto protocol = L4Proto::Tcp;
  // nullopt = every address of the host (0.0.0.0 and :: are normalised to it). A v4 hostIP
  // applies to IPv4 traffic only, a v6 one to IPv6 only.
  std::optional<IpAddress> host_ip;

  bool applies_to(Family f) const { return !host_ip || host_ip->family() == f; }
  // "8080/tcp on 10.1.1.1" / "8080/tcp on all addresses", for messages.
  std::string describe() const;
  bool operator==(const PortMapping&) const = default;
};

}  // namespace tether::net
