#pragma once
// The parts of firewalld's D-Bus API tether uses, as of firewalld 1.3.3 (Debian 12), checked
// against its source (firewall/server/firewalld.py, D-Bus interface revision 15):
//   org.fedoraproject.FirewallD1.zone.getZoneOfSource(s source) -> s zone ("" when none)
//   org.fedoraproject.FirewallD1.zone.addSource(s zone, s source) -> s zone   (runtime only; no
//       timeout argument: that is addSourcePort's)
//   org.fedoraproject.FirewallD1.zone.removeSource(s zone, s source) -> s zone
//   org.fedoraproject.FirewallD1.zone.querySource(s zone, s source) -> b
//   signal org.fedoraproject.FirewallD1.Reloaded()   after reload / completeReload
// Failures are D-Bus errors named org.fedoraproject.FirewallD1.Exception whose message starts with
// firewalld's error code: "ZONE_ALREADY_SET: '10.88.0.0/24' already bound to 'trusted'".
#include <string>

namespace tether::firewalld {

inline constexpr const char* kService = "org.fedoraproject.FirewallD1";
inline constexpr const char* kPath = "/org/fedoraproject/FirewallD1";
inline constexpr const char* kInterface = "org.fedoraproject.FirewallD1";
inline constexpr const char* kZoneInterface = "org.fedoraproject.FirewallD1.zone";
inline constexpr const char* kErrorName = "org.fedoraproject.FirewallD1.Exception";

// The zone whose sources firewalld accepts everything from (and forwards for), like netavark.
inline constexpr const char* kTrustedZone = "trusted";

// firewalld's error code at the start of an error message ("ZONE_CONFLICT" of
// "ZONE_CONFLICT: '…' already bound to a zone"); "" when the message has none.
std::string error_code(const std::string& message);

// The source string to give firewalld for `cidr`. firewalld keys sources by their exact text
// ("10.88.0.0/24" and "10.88.0.1/24" are two sources to it, with duplicate rules), so one subnet
// must always be spelled one way: parsed, and printed back canonically ("fd00:0088::/64" →
// "fd00:88::/64"). Throws tether::Error (kInvalidConfig) when `cidr` is not a subnet in CIDR
// notation or has host bits set.
std::string canonical_source(const std::string& cidr);

}  // namespace tether::firewalld
