#include "plugin/command_line.hpp"

#include <cstdio>
#include <string>
#include <string_view>

#include "lib/cni/version.hpp"
#include "lib/util/decimal.hpp"
#include "plugin/config.hpp"
#include "plugin/firewall_reload.hpp"
#include "plugin/firewall_state.hpp"

namespace tether::plugin {
namespace {

constexpr const char* kUsage =
    "usage: tether --help | --version\n"
    "       tether firewall-reload [--state-dir DIR] [--watch [--interval SECONDS]]\n"
    "\n"
    "Without arguments and without CNI_COMMAND, prints what it is; run by a container runtime\n"
    "(CNI_COMMAND set) it is the CNI plugin.\n"
    "\n"
    "firewall-reload  re-creates the NAT, port-mapping and forwarding rules (and firewalld trust) of\n"
    "                 every attachment recorded in the state directory (default /run/tether) that a\n"
    "                 firewall reload removed; what is present is left alone.\n"
    "  --state-dir DIR  the plugins' `stateDir`\n"
    "  --watch          stay running and reload again on each firewalld `Reloaded` signal\n"
    "  --interval N     with --watch: also every N seconds (rules flushed without a signal)\n";

int usage_error(const std::string& why) {
  std::fprintf(stderr, "tether: %s\n%s", why.c_str(), kUsage);
  return 2;
}

}  // namespace

int run_command_line(int argc, const char* const* argv, const Deps& deps) {
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (first == "--help" || first == "-h" || first == "help") {
    if (argc > 2) return usage_error("unexpected argument '" + std::string(argv[2]) + "'");
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (first == "--version" || first == "version") {
    if (argc > 2) return usage_error("unexpected argument '" + std::string(argv[2]) + "'");
    std::string versions;
    for (const auto& v : cni::supported_version_strings()) versions += (versions.empty() ? "" : ", ") + v;
    std::printf("tether %s\nCNI protocol versions supported: %s\n", TETHER_VERSION, versions.c_str());
    return 0;
  }
  if (first == "firewall-reload") {
    ReloadOptions opts;
    opts.state_dir = kDefaultStateDir;
    for (int i = 2; i < argc; ++i) {
      const std::string_view a = argv[i];
      if (a == "--watch") {
        opts.watch = true;
      } else if (a == "--interval") {
        if (i + 1 == argc) return usage_error("firewall-reload: --interval needs a number of seconds");
        const auto n = util::parse_strict_decimal(argv[++i], 6);
        if (!n || *n == 0)
          return usage_error("firewall-reload: --interval: '" + std::string(argv[i]) + "' is not 1-999999");
        opts.interval_s = static_cast<unsigned>(*n);
      } else if (a == "--state-dir") {
        if (i + 1 == argc) return usage_error("firewall-reload: --state-dir needs a directory");
        opts.state_dir = argv[++i];
      } else if (a.starts_with("--state-dir=")) {
        opts.state_dir = std::string(a.substr(12));
      } else {
        return usage_error("firewall-reload: unknown argument '" + std::string(a) + "'");
      }
    }
    if (opts.interval_s != 0 && !opts.watch) return usage_error("firewall-reload: --interval needs --watch");
    if (opts.state_dir.empty() || opts.state_dir[0] != '/')
      return usage_error("firewall-reload: --state-dir must be an absolute path");
    return firewall_reload(opts, deps);
  }
  return usage_error(first.empty() ? "no command" : "unknown command '" + std::string(first) + "'");
}

}  // namespace tether::plugin
