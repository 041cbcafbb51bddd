#pragma once
// Where the system bus is, and whether anything can be listening there, decided without
// connecting (and so without loading libsystemd): a host without a system bus costs one stat.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::dbus {

// The well-known system bus socket (the D-Bus specification's default, also sd-bus's).
inline constexpr const char* kDefaultSystemBusAddress = "unix:path=/run/dbus/system_bus_socket";

// $DBUS_SYSTEM_BUS_ADDRESS when set and non-empty (as sd_bus_open_system reads it), else the default.
std::string system_bus_address();

// The socket paths of `address`'s "unix:path=" entries, %-unescaped, in order. nullopt when an
// entry is of another kind (abstract socket, tcp, unixexec, …) or malformed: its presence cannot
// be told by a stat, so the caller has to try connecting.
std::optional<std::vector<std::string>> unix_socket_paths(std::string_view address);

// false only when every entry of `address` is a unix:path= socket and none of those paths exists:
// there is nothing to connect to. true means "try connecting" (it may still be refused).
bool may_be_listening(std::string_view address);

}  // namespace tether::dbus
