// tether: the bridge CNI plugin.
#include "lib/cni/skel.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/plugin.hpp"

int main() {
  tether::plugin::Deps deps;
  deps.make_firewall = tether::plugin::make_firewall;
  return tether::cni::run_plugin_main(tether::plugin::plugin_funcs(deps));
}
