// tether: the bridge CNI plugin.
#include "lib/cni/skel.hpp"
#include "lib/firewall/firewall.hpp"
#include "plugin/plugin.hpp"

int main() {
  auto fw = tether::firewall::make_iptables_firewall();
  tether::plugin::Deps deps;
  deps.firewall = fw.get();
  return tether::cni::run_plugin_main(tether::plugin::plugin_funcs(deps));
}
