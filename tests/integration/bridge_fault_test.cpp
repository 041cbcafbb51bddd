// Fault injection through Deps::after_add_step: ADD fails after each step in turn, and the rollback
// must leave nothing: no bridge (when this ADD created it), no veth, no container interface, no
// lease, no NAT rules, no gateway address. Runs the ADD pipeline in process, inside the fake host
// netns (NetnsGuard), with a fake firewall that records what is installed.

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/in_process.hpp"
#include "fixture/netns_fixture.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/error.hpp"
#include "plugin/plugin.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

class FakeFirewall : public firewall::Firewall {
 public:
  void add(const firewall::NatPlan& plan) override { installed.insert(id(plan.key)); }
  void del(const firewall::AttachmentKey& key) override { installed.erase(id(key)); }
  void check(const firewall::NatPlan& plan) override {
    if (!installed.count(id(plan.key))) throw Error("no rules for " + id(plan.key));
  }
  void gc(const std::string&, const std::vector<firewall::AttachmentKey>&) override {}
  static std::string id(const firewall::AttachmentKey& k) { return k.network + "/" + k.container_id + "/" + k.ifname; }
  std::set<std::string> installed;
};

class BridgeFaultTest : public NetnsTest, public ::testing::WithParamInterface<std::string_view> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    host_ns_.emplace(netns::Netns::open(host().path()));
  }
  void TearDown() override {
    host_ns_.reset();
    NetnsTest::TearDown();
  }

  cni::Request request(cni::Command cmd, const std::string& id, const std::string& netns) {
    json c = {{"cniVersion", "1.1.0"},
              {"name", "fnet"},
              {"type", "tether"},
              {"bridge", "ttfb0"},
              {"isDefaultGateway", true},
              {"ipMasq", true},
              {"mtu", 1400},
              {"hairpinMode", true},
              {"portIsolation", true},
              {"ipam",
               {{"type", "tether-ipam"},
                {"dataDir", data_dir_},
                {"ranges", json::parse(R"([[{"subnet":"10.78.0.0/24"}],[{"subnet":"fd00:78::/64"}]])")}}}};
    return make_request(c, cmd, id, netns);
  }
  plugin::Deps deps(std::string_view fail_after) {
    plugin::Deps d;
    d.firewall = &fw_;
    d.after_add_step = [fail_after](std::string_view step) {
      if (step == fail_after) throw Error("injected fault after step '" + std::string(step) + "'");
    };
    return d;
  }
  cni::Result add(const std::string& id, TestNetns& ctr, std::string_view fail_after = {}) {
    netns::NetnsGuard g(*host_ns_);
    return plugin::cmd_add(request(cni::Command::Add, id, ctr.path()), deps(fail_after));
  }
  void del(const std::string& id, TestNetns& ctr) {
    netns::NetnsGuard g(*host_ns_);
    plugin::cmd_del(request(cni::Command::Del, id, ctr.path()), deps({}));
  }

  std::string bridge_addrs() {
    std::string out;
    host().exec("ip -j addr show dev ttfb0", &out);
    return out;
  }
  std::size_t leases() { return count_leases(data_dir_ + "/fnet"); }

  std::string data_dir_;
  std::optional<netns::Netns> host_ns_;
  FakeFirewall fw_;
};

TEST_P(BridgeFaultTest, FailureAfterStepOnNewBridgeLeavesNothing) {
  TestNetns& ctr = add_container();
  try {
    add("cf", ctr, GetParam());
    FAIL() << "ADD succeeded despite the fault";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("injected fault"));
  }
  EXPECT_THAT(link_names(host()), ::testing::ElementsAre("lo")) << "bridge/veth left in host";
  EXPECT_THAT(link_names(ctr), ::testing::ElementsAre("lo")) << "container interface left";
  EXPECT_EQ(leases(), 0u);
  EXPECT_TRUE(fw_.installed.empty());
}

TEST_P(BridgeFaultTest, FailureAfterStepOnSharedBridgeKeepsOthers) {
  TestNetns& a = add_container("a");
  TestNetns& b = add_container("b");
  cni::Result ra = add("ca", a);
  const std::string veth_a = ra.interfaces[1].name;
  try {
    add("cb", b, GetParam());
    FAIL() << "ADD succeeded despite the fault";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("injected fault"));
  }
  EXPECT_THAT(link_names(host()), ::testing::UnorderedElementsAre("lo", "ttfb0", veth_a));
  EXPECT_THAT(link_names(b), ::testing::ElementsAre("lo"));
  EXPECT_THAT(link_names(a), ::testing::UnorderedElementsAre("lo", "eth0"));
  EXPECT_THAT(bridge_addrs(), HasSubstr("10.78.0.1")) << "the gateway serves container a";
  EXPECT_EQ(leases(), 2u) << "a's two leases (v4 + v6) only";
  EXPECT_EQ(fw_.installed, std::set<std::string>{"fnet/ca/eth0"});
  std::string out;
  EXPECT_EQ(a.exec("ping -c1 -W2 10.78.0.1", &out), 0) << out;
  del("ca", a);
  EXPECT_EQ(leases(), 0u);
  EXPECT_TRUE(fw_.installed.empty());
}

INSTANTIATE_TEST_SUITE_P(EachStep, BridgeFaultTest, ::testing::ValuesIn(plugin::kAddSteps),
                         [](const auto& info) { return std::string(info.param); });

class BridgeInProcessTest : public BridgeFaultTest {};

TEST_F(BridgeInProcessTest, AddThenDelWithoutFault) {
  TestNetns& ctr = add_container();
  cni::Result r = add("ok", ctr);
  ASSERT_EQ(r.ips.size(), 2u);
  EXPECT_EQ(r.interfaces.size(), 3u);
  EXPECT_EQ(fw_.installed, std::set<std::string>{"fnet/ok/eth0"});
  EXPECT_EQ(leases(), 2u);
  EXPECT_THAT(link_names(ctr), ::testing::UnorderedElementsAre("lo", "eth0"));
  del("ok", ctr);
  EXPECT_EQ(leases(), 0u);
  EXPECT_TRUE(fw_.installed.empty());
  EXPECT_THAT(link_names(ctr), ::testing::ElementsAre("lo"));
  del("ok", ctr);  // again: nothing there is success
}

// Another ADD created the bridge, failed, and removed it again right after we adopted it: the veth
// request then names a master that is gone. The ADD must ensure the bridge again and succeed.
TEST_F(BridgeInProcessTest, BridgeRemovedByRacingRollbackIsEnsuredAgain) {
  TestNetns& ctr = add_container();
  plugin::Deps d;
  d.firewall = &fw_;
  const std::string host_name = host().name();
  d.after_add_step = [&](std::string_view step) {
    if (step == "bridge") {
      ASSERT_EQ(shell("ip -n " + host_name + " link del ttfb0"), 0);
    }
  };
  cni::Result r;
  {
    netns::NetnsGuard g(*host_ns_);
    r = plugin::cmd_add(request(cni::Command::Add, "race", ctr.path()), d);
  }
  std::string out;
  host().exec("ip -j link show master ttfb0", &out);
  EXPECT_THAT(out, HasSubstr(r.interfaces[1].name));
  EXPECT_EQ(ctr.exec("ping -c1 -W2 10.78.0.1", &out), 0) << out;
  del("race", ctr);
}

}  // namespace
}  // namespace tether::testing
