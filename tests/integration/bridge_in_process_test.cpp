// The ADD and DEL pipeline in process, inside the fake host netns (NetnsGuard), with a fake
// firewall that records what is installed (a failure at every single operation of an ADD is
// tests/fault's job).

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

// One shared record for every backend object the factory hands out (the backend is chosen per call).
class FakeFirewall : public firewall::Firewall {
 public:
  explicit FakeFirewall(std::set<std::string>& installed) : installed_(installed) {}
  void add(const firewall::NatPlan& plan) override { installed_.insert(id(plan.key)); }
  void del(const firewall::AttachmentKey& key) override { installed_.erase(id(key)); }
  void check(const firewall::NatPlan& plan) override {
    if (!installed_.count(id(plan.key))) throw Error("no rules for " + id(plan.key));
  }
  void gc(const std::string&, const std::vector<firewall::AttachmentKey>&) override {}
  void ensure_forward(const firewall::ForwardPlan& p) override { installed_.insert("forward/" + p.network); }
  void remove_forward(const std::string& network) override { installed_.erase("forward/" + network); }
  void check_forward(const firewall::ForwardPlan&) override {}
  static std::string id(const firewall::AttachmentKey& k) { return k.network + "/" + k.container_id + "/" + k.ifname; }

 private:
  std::set<std::string>& installed_;
};

class BridgeInProcessTest : public NetnsTest {
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
              {"firewallBackend", "iptables"},
              {"stateDir", data_dir_ + "/.state"},
              {"mtu", 1400},
              {"hairpinMode", true},
              {"portIsolation", true},
              {"ipam",
               {{"type", "tether-ipam"},
                {"dataDir", data_dir_},
                {"ranges", json::parse(R"([[{"subnet":"10.78.0.0/24"}],[{"subnet":"fd00:78::/64"}]])")}}}};
    return make_request(c, cmd, id, netns);
  }
  plugin::Deps deps() {
    plugin::Deps d;
    d.make_firewall = [this](firewall::Backend) { return std::make_unique<FakeFirewall>(installed_); };
    return d;
  }
  cni::Result add(const std::string& id, TestNetns& ctr) {
    netns::NetnsGuard g(*host_ns_);
    return plugin::cmd_add(request(cni::Command::Add, id, ctr.path()), deps());
  }
  void del(const std::string& id, TestNetns& ctr) {
    netns::NetnsGuard g(*host_ns_);
    plugin::cmd_del(request(cni::Command::Del, id, ctr.path()), deps());
  }

  std::string bridge_addrs() {
    std::string out;
    host().exec("ip -j addr show dev ttfb0", &out);
    return out;
  }
  std::size_t leases() { return count_leases(data_dir_ + "/fnet"); }

  std::string data_dir_;
  std::optional<netns::Netns> host_ns_;
  std::set<std::string> installed_;
};

TEST_F(BridgeInProcessTest, AddThenDel) {
  TestNetns& ctr = add_container();
  cni::Result r = add("ok", ctr);
  ASSERT_EQ(r.ips.size(), 2u);
  EXPECT_EQ(r.interfaces.size(), 3u);
  EXPECT_EQ(installed_, (std::set<std::string>{"fnet/ok/eth0", "forward/fnet"})) << "NAT and the network's accepts";
  EXPECT_EQ(leases(), 2u);
  EXPECT_THAT(link_names(ctr), ::testing::UnorderedElementsAre("lo", "eth0"));
  del("ok", ctr);
  EXPECT_EQ(leases(), 0u);
  EXPECT_TRUE(installed_.empty());
  EXPECT_THAT(link_names(ctr), ::testing::ElementsAre("lo"));
  del("ok", ctr);  // again: nothing there is success
}

}  // namespace
}  // namespace tether::testing
