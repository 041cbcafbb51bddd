// BridgePlan + IPAM result → NatPlan: keyed by (network, containerID, ifname), container IPs with
// their subnet prefix, port mappings only when the capability was granted; which backends a
// call uses.
#include <gtest/gtest.h>

#include "lib/cni/conf.hpp"
#include "lib/util/error_list.hpp"
#include "plugin/firewall_plan.hpp"

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
  EXPECT_EQ(nat.port_mappings[0].protocol, net::L4Proto::Udp);
  EXPECT_EQ(nat.port_mappings[0].host_ip, net::IpAddress::parse("10.1.1.1"));
  EXPECT_FALSE(nat.empty());
  EXPECT_TRUE(nat.needs_route_localnet());
  EXPECT_EQ(nat.udp_host_ports(net::Family::V4), std::vector<std::uint16_t>{8080});
  EXPECT_TRUE(nat.udp_host_ports(net::Family::V6).empty()) << "a v4 hostIP maps v4 only";
}

TEST(PluginNatPlan, NothingToDoWithoutMasqOrCapability) {
  // The admin's `capabilities` does not declare portMappings (see PluginConfig.PortMappingsOnlyWithCapability).
  cni::Request req = request(
      R"(,"capabilities":{},"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80}]})");
  firewall::NatPlan nat = make_nat_plan(req, build_bridge_plan(req), result());
  EXPECT_TRUE(nat.empty());
  EXPECT_FALSE(build_bridge_plan(req).needs_nat());
}

// Records which backends were asked for and what was done with them.
struct Recorder {
  std::vector<std::string> calls;
  Deps deps(bool have_nft) {
    Deps d;
    d.make_firewall = [this, have_nft](firewall::Backend b) -> std::unique_ptr<firewall::Firewall> {
      calls.push_back(std::string("make ") + firewall::backend_name(b));
      if (b == firewall::Backend::Nftables && !have_nft) return nullptr;
      struct Fake : firewall::Firewall {
        Recorder* r;
        firewall::Backend b;
        Fake(Recorder* r, firewall::Backend b) : r(r), b(b) {}
        void add(const firewall::NatPlan&) override {}
        void del(const firewall::AttachmentKey& k) override {
          r->calls.push_back(std::string("del ") + firewall::backend_name(b) + " " + k.container_id);
        }
        void check(const firewall::NatPlan&) override {}
        void gc(const std::string&, const std::vector<firewall::AttachmentKey>&) override {}
        void ensure_forward(const firewall::ForwardPlan&) override {}
        void remove_forward(const std::string&) override {}
        void check_forward(const firewall::ForwardPlan&) override {}
      };
      return std::make_unique<Fake>(this, b);
    };
    return d;
  }
};

TEST(PluginFirewallPlan, TeardownAsksEveryBackendTheBuildHas) {
  Recorder rec;
  util::ErrorList errors;
  const Deps d = rec.deps(true);
  for_each_backend(d, "del", errors, [](firewall::Firewall& fw) { fw.del({"n", "c1", "eth0"}); });
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(rec.calls,
            (std::vector<std::string>{"make iptables", "del iptables c1", "make nftables", "del nftables c1"}));

  Recorder without_nft;
  const Deps d2 = without_nft.deps(false);
  for_each_backend(d2, "del", errors, [](firewall::Firewall& fw) { fw.del({"n", "c1", "eth0"}); });
  EXPECT_EQ(without_nft.calls, (std::vector<std::string>{"make iptables", "del iptables c1", "make nftables"}));
}

TEST(PluginFirewallPlan, ExplicitIptablesNeedsNoProbe) {
  EXPECT_EQ(choose_backend(BackendChoice::Iptables), firewall::Backend::Iptables);
}

}  // namespace
}  // namespace tether::plugin
