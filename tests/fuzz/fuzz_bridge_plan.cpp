// The bridge plugin's config → BridgePlan (plugin/config.hpp), the last validation before any
// netlink call. Input: the CNI_ARGS value, '\n', then the network config. Either rejected with
// code 1/6/7 (config) or 4/7 (CNI_ARGS), or every value in the plan is one the kernel accepts.
#include <cstddef>
#include <cstdint>

#include "lib/cni/conf.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "plugin/config.hpp"
#include "tests/fuzz/netconf_invariants.hpp"

using namespace tether;

namespace {

void check_plan(const plugin::BridgePlan& p, const cni::NetConf& conf) {
  fuzz::expect(cni::valid_ifname(p.bridge), "bridge name the kernel refuses", p.bridge);
  fuzz::expect(!p.mtu || (*p.mtu >= 68 && *p.mtu <= 65535), "mtu out of range", std::to_string(p.mtu.value_or(0)));
  fuzz::expect(p.vlan >= 0 && p.vlan <= 4094, "vlan out of range", std::to_string(p.vlan));
  for (const auto& r : p.vlan_trunk) {
    fuzz::expect(r.min >= 1 && r.max <= 4094 && r.min <= r.max, "bad vlan trunk range",
                 std::to_string(r.min) + "-" + std::to_string(r.max));
  }
  fuzz::expect(!(p.hairpin && p.promisc), "hairpin and promisc together");
  fuzz::expect(!p.is_default_gateway || p.is_gateway, "default gateway without gateway");
  if (p.mac) fuzz::expect(((*p.mac)[0] & 1) == 0, "multicast mac accepted", net::format_mac(*p.mac));
  fuzz::expect(p.network == conf.name, "network name changed");
  fuzz::expect(p.port_mappings.empty() || p.port_mappings == conf.runtime_config.port_mappings,
               "port mappings changed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  cni::Request req;
  req.env.command = cni::Command::Add;
  req.env.args = std::string(text.substr(0, nl));
  try {
    req.conf = cni::parse_netconf(text.substr(nl + 1));
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kIncompatibleVersion, cni::kDecodeFailure, cni::kInvalidConfig});
    return 0;
  }
  try {
    check_plan(plugin::build_bridge_plan(req), req.conf);
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kInvalidConfig, cni::kInvalidEnv});
  }
  return 0;
}
