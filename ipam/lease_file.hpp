#pragma once
// host-local's lease file format: the file is named after the IP and holds
// "<containerID>\r\n<ifname>" (older files: just "<containerID>"). Surrounding whitespace is
// ignored, as host-local's TrimSpace does.
#include <optional>
#include <string>
#include <string_view>

#include "ipam/store.hpp"

namespace tether::ipam {

inline constexpr std::string_view kLastReservedPrefix = "last_reserved_ip.";
inline constexpr std::string_view kLockName = "lock";

std::string lease_content(const Owner& owner);
// nullopt for anything that is not a well-formed lease (empty, torn, binary, bad characters):
// such a file keeps its address out of use but never belongs to anyone.
std::optional<Owner> parse_lease_content(std::string_view text);
// Lease files are named by the IP's canonical text (Go's net.IP.String(), which inet_ntop matches).
std::optional<net::IpAddress> parse_lease_name(std::string_view name);

}  // namespace tether::ipam
