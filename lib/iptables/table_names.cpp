#include "lib/iptables/table_names.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <string_view>

#include "lib/sys/unique_fd.hpp"

namespace tether::iptables {

bool table_exists(net::Family family, const std::string& table) {
  const char* path = family == net::Family::V4 ? "/proc/net/ip_tables_names" : "/proc/net/ip6_tables_names";
  sys::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return false;  // no legacy x_tables support at all: nothing of ours can exist
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  std::string_view rest(text);
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    if (rest.substr(0, nl) == table) return true;
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return false;
}

bool host_iptables_is_nft() {
  for (const char* p : {"/usr/sbin/iptables", "/sbin/iptables"}) {
    char resolved[PATH_MAX];
    if (::realpath(p, resolved) == nullptr) continue;
    return std::string_view(resolved).find("nft") != std::string_view::npos;  // xtables-nft-multi
  }
  return false;
}

}  // namespace tether::iptables
