// BridgePlan + IPAM result → NatPlan: keyed by (network, containerID, ifname), container IPs with
// their subnet prefix, port mappings only when the capability was granted.
#include <gtest/gtest.h>

#include "lib/cni/conf.hpp"
#include "plugin/nat_plan.hpp"

namespace tether::plugin {
namespace {

cni::Request request(const std::string& extra) {
  cni::Request r;
  r.stdin_data = R"({"cniVersion":"1.0.0","name":"natnet","type":"tether","bridge":"brn")" + extra + "}";
  r.conf = cni::parse_netconf(r.stdin_data);
  r.env.container_id = "cid1";
  r.env.ifname = "eth1";
  return r;
}

cni::Result result() {
  cni::Result res;
  cni::IpConfig a, b;
  a.address = *net::IpPrefix::parse("10.9.0.5/24");
  b.address = *net::IpPrefix::parse("fd00:9::5/64");
  res.ips = {a, b};
  return res;
}

TEST(PluginNatPlan, KeyIpsAndMappings) {
  cni::Request req = request(
      R"(,"ipMasq":true,"capabilities":{"portMappings":true},
         "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"udp","hostIP":"10.1.1.1"}]})");
  firewall::NatPlan nat = make_nat_plan(req, build_bridge_plan(req), result());
  EXPECT_EQ(nat.key.network, "natnet");
  EXPECT_EQ(nat.key.container_id, "cid1");
  EXPECT_EQ(nat.key.ifname, "eth1");
  EXPECT_TRUE(nat.ip_masq);
  ASSERT_EQ(nat.container_ips.size(), 2u);
  EXPECT_EQ(nat.container_ips[0].to_string(), "10.9.0.5/24");
  EXPECT_EQ(nat.container_ips[1].to_string(), "fd00:9::5/64");
  ASSERT_EQ(nat.port_mappings.size(), 1u);
  EXPECT_EQ(nat.port_mappings[0].host_port, 8080);
  EXPECT_EQ(nat.port_mappings[0].container_port, 80);
  EXPECT_EQ(nat.port_mappings[0].protocol, "udp");
  EXPECT_EQ(nat.port_mappings[0].host_ip, "10.1.1.1");
  EXPECT_FALSE(nat.empty());
}

TEST(PluginNatPlan, NothingToDoWithoutMasqOrCapability) {
  // The admin's `capabilities` does not declare portMappings (see PluginConfig.PortMappingsOnlyWithCapability).
  cni::Request req = request(R"(,"capabilities":{},"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80}]})");
  firewall::NatPlan nat = make_nat_plan(req, build_bridge_plan(req), result());
  EXPECT_TRUE(nat.empty());
  EXPECT_FALSE(build_bridge_plan(req).needs_nat());
}

}  // namespace
}  // namespace tether::plugin
