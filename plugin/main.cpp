// tether: the bridge CNI plugin, and (run with arguments, without CNI_COMMAND) its command line.
#include <cstdlib>

#include "lib/cni/skel.hpp"
#include "plugin/command_line.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/firewalld_zone.hpp"
#include "plugin/plugin.hpp"

int main(int argc, char** argv) {
  tether::plugin::Deps deps;
  deps.make_firewall = tether::plugin::make_firewall;
  deps.trusted_zone = tether::plugin::firewalld_trusted_zone;
  const char* cni_command = std::getenv("CNI_COMMAND");
  if (argc > 1 && (cni_command == nullptr || *cni_command == '\0'))
    return tether::plugin::run_command_line(argc, argv, deps);
  return tether::cni::run_plugin_main(tether::plugin::plugin_funcs(deps));
}
