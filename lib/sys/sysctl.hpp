#pragma once
// Sysctls as plain /proc/sys writes. A /proc/sys/net path resolves to the netns of the calling
// *thread* at open time, so callers switch with netns::NetnsGuard first when they mean a container.
// Paths use '/' (never dotted names: "eth0.100" is a valid interface name).
#include <optional>
#include <string>

namespace tether::sys {

// Writes `value` to /proc/sys/<path> (e.g. "net/ipv4/ip_forward"). Throws SysError naming the path.
void write_sysctl(const std::string& path, const std::string& value);
// Like write_sysctl, but a missing file (no IPv6, interface gone) is not an error: returns false.
bool write_sysctl_if_exists(const std::string& path, const std::string& value);
// The value with trailing whitespace stripped; nullopt when the file does not exist.
std::optional<std::string> read_sysctl(const std::string& path);

}  // namespace tether::sys
