#include "lib/dbus/address.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

namespace tether::dbus {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// D-Bus address values escape every byte outside [-0-9A-Za-z_/.\*] as %XX.
std::optional<std::string> unescape(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) return std::nullopt;
    const int hi = hex_value(v[i + 1]), lo = hex_value(v[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// The unescaped path= value of one "unix:key=value,..." entry; nullopt for anything else.
std::optional<std::string> unix_path_of(std::string_view entry) {
  constexpr std::string_view kUnix = "unix:";
  if (entry.substr(0, kUnix.size()) != kUnix) return std::nullopt;
  std::optional<std::string> path;
  std::string_view rest = entry.substr(kUnix.size());
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view kv = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view key = kv.substr(0, eq);
    if (key == "path") {
      path = unescape(kv.substr(eq + 1));
      if (!path || path->empty()) return std::nullopt;
    } else if (key == "abstract" || key == "dir" || key == "tmpdir" || key == "runtime") {
      return std::nullopt;  // not a filesystem path we can stat
    }                       // guid= and unknown keys do not change where the socket is
  }
  return path;
}

}  // namespace

std::string system_bus_address() {
  const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(kDefaultSystemBusAddress);
}

std::optional<std::vector<std::string>> unix_socket_paths(std::string_view address) {
  std::vector<std::string> paths;
  while (!address.empty()) {
    const auto semi = address.find(';');
    const std::string_view entry = address.substr(0, semi);
    address = semi == std::string_view::npos ? std::string_view() : address.substr(semi + 1);
    if (entry.empty()) continue;  // "a;" and ";;" are tolerated by libdbus and sd-bus alike
    auto path = unix_path_of(entry);
    if (!path) return std::nullopt;
    paths.push_back(std::move(*path));
  }
  if (paths.empty()) return std::nullopt;
  return paths;
}

bool may_be_listening(std::string_view address) {
  const auto paths = unix_socket_paths(address);
  if (!paths) return true;
  for (const auto& p : *paths) {
    struct stat st;
    // Anything there (even not a socket) is left to connect() to judge; only absence is certain.
    if (::stat(p.c_str(), &st) == 0 || (errno != ENOENT && errno != ENOTDIR)) return true;
  }
  return false;
}

}  // namespace tether::dbus
