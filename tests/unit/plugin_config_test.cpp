// Bridge config → BridgePlan: every key of the reference `bridge` plugin, defaults, and the
// validation errors (code 7, naming key, value and reason).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "lib/cni/conf.hpp"
#include "lib/netlink/link.hpp"
#include "lib/util/error.hpp"
#include "plugin/config.hpp"

namespace tether::plugin {
namespace {

using ::testing::HasSubstr;

cni::Request request(const std::string& extra, const std::string& cni_args = {}) {
  std::string text = R"({"cniVersion":"1.0.0","name":"net1","type":"tether")" + extra + "}";
  cni::Request r;
  r.conf = cni::parse_netconf(text);
  r.stdin_data = text;
  r.env.args = cni_args;
  return r;
}

// Expects code 7 and every fragment in the message.
void expect_invalid(const std::string& extra, std::initializer_list<const char*> fragments,
                    const std::string& cni_args = {}) {
  try {
    build_bridge_plan(request(extra, cni_args));
    FAIL() << "accepted: " << extra;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 7) << e.what();
    for (const char* f : fragments) EXPECT_THAT(e.what(), HasSubstr(f)) << extra;
  }
}

TEST(PluginConfig, Defaults) {
  BridgePlan p = build_bridge_plan(request(""));
  EXPECT_EQ(p.network, "net1");
  EXPECT_EQ(p.bridge, "tether0");
  EXPECT_FALSE(p.is_gateway);
  EXPECT_FALSE(p.is_default_gateway);
  EXPECT_FALSE(p.mtu);
  EXPECT_EQ(p.vlan, 0);
  EXPECT_FALSE(p.uses_vlans());
  EXPECT_TRUE(p.ipam_type.empty());
  EXPECT_FALSE(p.mac);
  EXPECT_FALSE(p.needs_nat());
}

TEST(PluginConfig, AllKeysRead) {
  BridgePlan p = build_bridge_plan(request(
      R"(,"bridge":"br-x","isDefaultGateway":false,"forceAddress":true,"ipMasq":true,"mtu":1400,
      "hairpinMode":true,"vlan":100,"vlanTrunk":[{"id":5},{"minID":10,"maxID":20}],"preserveDefaultVlan":true,
      "enabledad":true,"portIsolation":true,"ipMasqBackend":"iptables",
      "ipam":{"type":"tether-ipam","subnet":"10.1.0.0/24"})"));
  EXPECT_EQ(p.bridge, "br-x");
  EXPECT_FALSE(p.is_gateway);
  EXPECT_TRUE(p.force_address);
  EXPECT_TRUE(p.ip_masq);
  EXPECT_EQ(p.mtu, 1400u);
  EXPECT_TRUE(p.hairpin);
  EXPECT_EQ(p.vlan, 100);
  ASSERT_EQ(p.vlan_trunk.size(), 2u);
  EXPECT_EQ(p.vlan_trunk[0].min, 5);
  EXPECT_EQ(p.vlan_trunk[0].max, 5);
  EXPECT_EQ(p.vlan_trunk[1].min, 10);
  EXPECT_EQ(p.vlan_trunk[1].max, 20);
  EXPECT_TRUE(p.preserve_default_vlan);
  EXPECT_TRUE(p.enable_dad);
  EXPECT_TRUE(p.port_isolation);
  EXPECT_EQ(p.ipam_type, "tether-ipam");
  EXPECT_TRUE(p.needs_nat());
}

TEST(PluginConfig, DefaultGatewayImpliesGateway) {
  BridgePlan p = build_bridge_plan(request(R"(,"isDefaultGateway":true)"));
  EXPECT_TRUE(p.is_default_gateway);
  EXPECT_TRUE(p.is_gateway);
}

TEST(PluginConfig, VlanWithGatewayRejected) {
  // The reference puts the gateway on a <br>.<vlan> interface; tether does not (yet): refuse openly.
  expect_invalid(R"(,"vlan":100,"isGateway":true)", {"vlan", "100", "isGateway"});
}

TEST(PluginConfig, MtuRange) {
  EXPECT_FALSE(build_bridge_plan(request(R"(,"mtu":0)")).mtu) << "0 means kernel default";
  EXPECT_EQ(build_bridge_plan(request(R"(,"mtu":68)")).mtu, 68u);
  EXPECT_EQ(build_bridge_plan(request(R"(,"mtu":65535)")).mtu, 65535u);
  expect_invalid(R"(,"mtu":67)", {"mtu", "67", "68"});
  expect_invalid(R"(,"mtu":65536)", {"mtu", "65536"});
  expect_invalid(R"(,"mtu":-1)", {"mtu"});
  expect_invalid(R"(,"mtu":"1500")", {"mtu"});
}

TEST(PluginConfig, VlanRange) {
  EXPECT_EQ(build_bridge_plan(request(R"(,"vlan":4094)")).vlan, 4094);
  expect_invalid(R"(,"vlan":4095)", {"vlan", "4095"});
  expect_invalid(R"(,"vlan":-1)", {"vlan"});
}

TEST(PluginConfig, VlanTrunkValidation) {
  expect_invalid(R"(,"vlanTrunk":[{"id":0}])", {"vlanTrunk[0].id", "0"});
  expect_invalid(R"(,"vlanTrunk":[{"id":4095}])", {"vlanTrunk[0].id", "4095"});
  expect_invalid(R"(,"vlanTrunk":[{"minID":10}])", {"vlanTrunk[0]", "together"});
  expect_invalid(R"(,"vlanTrunk":[{"id":3},{"minID":20,"maxID":10}])", {"vlanTrunk[1]", "20", "10"});
  expect_invalid(R"(,"vlanTrunk":[{}])", {"vlanTrunk[0]"});
  expect_invalid(R"(,"vlanTrunk":[7])", {"vlanTrunk[0]", "7"});
  expect_invalid(R"(,"vlanTrunk":{"id":7})", {"vlanTrunk"});
}

TEST(PluginConfig, HairpinAndPromiscExclusive) {
  EXPECT_TRUE(build_bridge_plan(request(R"(,"promiscMode":true)")).promisc);
  expect_invalid(R"(,"hairpinMode":true,"promiscMode":true)", {"hairpinMode", "promiscMode"});
}

TEST(PluginConfig, DisableContainerInterface) {
  EXPECT_TRUE(build_bridge_plan(request(R"(,"disableContainerInterface":true)")).disable_container_interface);
  EXPECT_TRUE(build_bridge_plan(request(R"(,"disableContainerInterface":true,"ipam":{})")).disable_container_interface);
  expect_invalid(R"(,"disableContainerInterface":true,"ipam":{"type":"tether-ipam"})",
                 {"disableContainerInterface", "tether-ipam"});
}

TEST(PluginConfig, Ipam) {
  EXPECT_TRUE(build_bridge_plan(request(R"(,"ipam":{})")).ipam_type.empty()) << "{} = L2 only";
  EXPECT_EQ(build_bridge_plan(request(R"(,"ipam":{"type":"host-local"})")).ipam_type, "host-local");
  expect_invalid(R"(,"ipam":{"subnet":"10.0.0.0/24"})", {"ipam.type", "missing"});
}

TEST(PluginConfig, BridgeName) {
  expect_invalid(R"(,"bridge":"a-very-long-bridge-name")", {"bridge", "a-very-long-bridge-name"});
  expect_invalid(R"(,"bridge":"br/0")", {"bridge", "br/0"});
  expect_invalid(R"(,"bridge":7)", {"bridge"});
}

TEST(PluginConfig, MacSpoofCheck) {
  EXPECT_TRUE(build_bridge_plan(request(R"(,"macspoofchk":true)")).mac_spoof_check);
  EXPECT_TRUE(build_bridge_plan(request(R"(,"macspoofchk":true)")).needs_nat()) << "firewall work of its own";
  EXPECT_FALSE(build_bridge_plan(request(R"(,"macspoofchk":false)")).mac_spoof_check);
  expect_invalid(R"(,"macspoofchk":"yes")", {"macspoofchk"});
}

TEST(PluginConfig, FirewallBackendKeys) {
  EXPECT_EQ(build_bridge_plan(request("")).firewall_backend, BackendChoice::Auto);
  EXPECT_EQ(build_bridge_plan(request(R"(,"firewallBackend":"nftables")")).firewall_backend, BackendChoice::Nftables);
  EXPECT_EQ(build_bridge_plan(request(R"(,"firewallBackend":"iptables")")).firewall_backend, BackendChoice::Iptables);
  // The reference bridge's key names the same setting.
  EXPECT_EQ(build_bridge_plan(request(R"(,"ipMasqBackend":"nftables")")).firewall_backend, BackendChoice::Nftables);
  EXPECT_EQ(build_bridge_plan(request(R"(,"ipMasqBackend":"iptables","firewallBackend":"iptables")")).firewall_backend,
            BackendChoice::Iptables);
  expect_invalid(R"(,"firewallBackend":"pf")", {"firewallBackend", "'pf'", "auto", "nftables"});
  expect_invalid(R"(,"ipMasqBackend":"ebtables")", {"ipMasqBackend", "ebtables"});
  expect_invalid(R"(,"firewallBackend":"nftables","ipMasqBackend":"iptables")",
                 {"firewallBackend", "nftables", "ipMasqBackend", "iptables"});
  expect_invalid(R"(,"firewallBackend":1)", {"firewallBackend"});
}

TEST(PluginConfig, IpamTypeNamingThePluginItselfIsRefused) {
  expect_invalid(R"(,"ipam":{"type":"tether"})", {"ipam.type", "tether-ipam"});
  // The conf's own type counts too (a renamed binary).
  const std::string renamed = R"({"cniVersion":"1.0.0","name":"net1","type":"mybridge","ipam":{"type":"mybridge"}})";
  cni::Request req;
  req.conf = cni::parse_netconf(renamed);
  EXPECT_ANY_THROW(build_bridge_plan(req));
  EXPECT_EQ(build_bridge_plan(req, PlanUse::Teardown).ipam_type, "") << "DEL/GC call no IPAM for it";
}

// What ADD refuses it never built, so the runtime's DEL (and GC) of that config must still run.
TEST(PluginConfig, TeardownPlanSkipsWhatOnlyAddRefuses) {
  for (const char* extra : {R"(,"vlan":100,"isGateway":true)", R"(,"firewallBackend":"pf")",
                            R"(,"ipam":{"type":"tether"})", R"(,"hairpinMode":true,"promiscMode":true)", R"(,"mtu":67)",
                            R"(,"disableContainerInterface":true,"ipam":{"type":"tether-ipam"})",
                            R"(,"runtimeConfig":{"mac":"01:00:5e:00:00:01"})"}) {
    EXPECT_ANY_THROW(build_bridge_plan(request(extra))) << extra;
    BridgePlan p;
    EXPECT_NO_THROW(p = build_bridge_plan(request(extra), PlanUse::Teardown)) << extra;
    EXPECT_EQ(p.network, "net1") << extra;
  }
  const BridgePlan p =
      build_bridge_plan(request(R"(,"vlan":100,"isGateway":true,"bridge":"br7","ipam":{"type":"tether-ipam"})"),
                        PlanUse::Teardown);
  EXPECT_EQ(p.bridge, "br7");
  EXPECT_EQ(p.ipam_type, "tether-ipam");
  // A malformed value is not a refusal: it fails either way.
  EXPECT_ANY_THROW(build_bridge_plan(request(R"(,"mtu":"1500")"), PlanUse::Teardown));
  EXPECT_ANY_THROW(build_bridge_plan(request(R"(,"bridge":"br/0")"), PlanUse::Teardown));
}

TEST(PluginConfig, BooleansTypeChecked) {
  expect_invalid(R"(,"isGateway":"yes")", {"isGateway"});
  expect_invalid(R"(,"hairpinMode":1)", {"hairpinMode"});
}

TEST(PluginConfig, MacPrecedenceLaterWins) {
  const std::string args = "IgnoreUnknown=1;MAC=0a:00:00:00:00:01";
  EXPECT_EQ(build_bridge_plan(request("", args)).mac, net::parse_mac("0a:00:00:00:00:01"));
  EXPECT_EQ(build_bridge_plan(request(R"(,"args":{"cni":{"mac":"0a:00:00:00:00:02"}})", args)).mac,
            net::parse_mac("0a:00:00:00:00:02"));
  EXPECT_EQ(build_bridge_plan(request(R"(,"args":{"cni":{"mac":"0a:00:00:00:00:02"}},
                                        "runtimeConfig":{"mac":"0A:00:00:00:00:03"})",
                                      args))
                .mac,
            net::parse_mac("0a:00:00:00:00:03"));
}

TEST(PluginConfig, MacValidated) {
  expect_invalid("", {"CNI_ARGS MAC", "zz"}, "MAC=zz:00:00:00:00:01");
  expect_invalid("", {"CNI_ARGS MAC", "unicast"}, "MAC=01:00:5e:00:00:01");
}

TEST(PluginConfig, PortMappingsOnlyWithCapability) {
  const std::string rc = R"(,"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})";
  // A `capabilities` map that does not declare portMappings: the admin did not ask for it.
  EXPECT_TRUE(build_bridge_plan(request(rc + R"(,"capabilities":{})")).port_mappings.empty());
  EXPECT_TRUE(build_bridge_plan(request(rc + R"(,"capabilities":{"portMappings":false})")).port_mappings.empty());
  // No `capabilities` key: a spec-following runtime removed it after filtering runtimeConfig.
  EXPECT_EQ(build_bridge_plan(request(rc)).port_mappings.size(), 1u);
  BridgePlan p = build_bridge_plan(request(rc + R"(,"capabilities":{"portMappings":true})"));
  ASSERT_EQ(p.port_mappings.size(), 1u);
  EXPECT_EQ(p.port_mappings[0].host_port, 8080);
  EXPECT_EQ(p.port_mappings[0].container_port, 80);
  EXPECT_TRUE(p.needs_nat());
}

TEST(PluginMac, ParseAndFormat) {
  auto m = net::parse_mac("0A:1b:2C:3d:4E:5f");
  ASSERT_TRUE(m);
  EXPECT_EQ(net::format_mac(*m), "0a:1b:2c:3d:4e:5f");
  EXPECT_EQ(net::parse_mac("0a-1b-2c-3d-4e-5f"), m);
  EXPECT_FALSE(net::parse_mac("0a:1b:2c:3d:4e"));
  EXPECT_FALSE(net::parse_mac("0a:1b:2c:3d:4e:5g"));
  EXPECT_FALSE(net::parse_mac("0a:1b:2c:3d:4e:5f:00"));
  EXPECT_FALSE(net::parse_mac("0a:1b-2c:3d:4e:5f")) << "one separator throughout";
  EXPECT_TRUE(net::same_mac("0A-1B-2C-3D-4E-5F", "0a:1b:2c:3d:4e:5f"));
  EXPECT_FALSE(net::same_mac("0a:1b:2c:3d:4e:5f", "0a:1b:2c:3d:4e:50"));
  EXPECT_FALSE(net::same_mac("", ""));
  for (int i = 0; i < 32; ++i) {
    auto r = netlink::random_mac();
    EXPECT_EQ(r[0] & 0x01, 0) << "unicast";
    EXPECT_EQ(r[0] & 0x02, 0x02) << "locally administered";
  }
}

}  // namespace
}  // namespace tether::plugin
