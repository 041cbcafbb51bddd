// enabledad with IPv6: the tether binary returns from ADD only once the container's addresses have
// left the tentative state (usable at once), and an address another node already holds (DAD
// failure) fails the ADD and leaves nothing behind.
// Oracle: `ip -j` inside the namespaces, ping, and the IPAM store on disk.

#include <algorithm>
#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/leases.hpp"
#include "fixture/netns_fixture.hpp"
#include "lib/net/ip.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kBridge = "ttdbr0";
constexpr const char* kNetwork = "tdad";

class DadSettleTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
  }

  // enabledad, a gateway bridge, one IPv6 subnet from tether-ipam.
  json conf() {
    json ipam = {{"type", "tether-ipam"},
                 {"ranges", json::parse(R"([[{"subnet":"fd00:7d::/64"}]])")},
                 {"dataDir", data_dir_}};
    return {{"cniVersion", "1.1.0"}, {"name", kNetwork},  {"type", "tether"}, {"bridge", kBridge},
            {"isGateway", true},     {"enabledad", true}, {"ipam", ipam},     {"stateDir", data_dir_ + "/.state"}};
  }
  PluginRun call(const std::string& cmd, const std::string& id, const TestNetns& ctr, const json& c) {
    return tether(cni_env(cmd, id, ctr.path(), "eth0"), c.dump());
  }
  json add_ok(const TestNetns& ctr, const std::string& id, const json& c) {
    PluginRun r = call("ADD", id, ctr, c);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
  void del_ok(const TestNetns& ctr, const std::string& id, const json& c) {
    PluginRun r = call("DEL", id, ctr, c);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::vector<std::string> leases() { return lease_files(data_dir_ + "/" + kNetwork); }
  // addr_info entries of `dev` in `ns` (ip -j -6 addr show); a tentative one has "tentative": true.
  json ipv6_addrs(const TestNetns& ns, const std::string& dev) {
    std::string out;
    EXPECT_EQ(ns.exec("ip -j -6 addr show dev " + dev, &out), 0) << out;
    json links = json::parse(out.empty() ? "[]" : out);
    return links.empty() ? json::array() : links[0].value("addr_info", json::array());
  }

  std::string data_dir_;
};

TEST_F(DadSettleTest, AddReturnsOnceIpv6AddressesAreUsable) {
  TestNetns& ctr = add_container();
  const json c = conf();
  const auto start = std::chrono::steady_clock::now();
  json res = add_ok(ctr, "c1", c);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  RecordProperty("add_ms", static_cast<int>(took.count()));
  ASSERT_EQ(res["ips"].size(), 1u) << res.dump();
  ASSERT_EQ(res["ips"][0]["address"], "fd00:7d::2/64");

  // Read right away: no address on eth0 (ours nor the link-local) may still be in DAD.
  json addrs = ipv6_addrs(ctr, "eth0");
  bool found = false;
  for (const auto& a : addrs) {
    found = found || a.value("local", "") == "fd00:7d::2";
    EXPECT_FALSE(a.value("tentative", false)) << "ADD returned during DAD: " << addrs.dump();
    EXPECT_FALSE(a.value("dadfailed", false)) << addrs.dump();
  }
  EXPECT_TRUE(found) << addrs.dump();
  // The address is usable as a source at once (a tentative one: "Cannot assign requested address").
  std::string out;
  EXPECT_EQ(ctr.exec("ping -6 -c1 -W2 fd00:7d::1 2>&1", &out), 0) << out;
  del_ok(ctr, "c1", c);
  EXPECT_TRUE(leases().empty());
}

TEST_F(DadSettleTest, DuplicateAddressFailsAddAndRollsBack) {
  TestNetns& a = add_container("a");
  TestNetns& b = add_container("b");
  const json c = conf();
  json ra = add_ok(a, "ca", c);
  ASSERT_EQ(ra["ips"][0]["address"], "fd00:7d::2/64") << ra.dump();
  // `a` already holds the address IPAM hands out next, so b's DAD sees a neighbour advertisement.
  std::string out;
  ASSERT_EQ(a.exec("ip -6 addr add fd00:7d::3/64 dev eth0 nodad 2>&1", &out), 0) << out;
  const std::vector<std::string> host_links = link_names(host());  // lo, bridge, a's veth

  PluginRun r = call("ADD", "cb", b, c);
  ASSERT_NE(r.exit_code, 0) << r.out;
  json err = json::parse(r.out);
  EXPECT_EQ(err["code"], 999) << r.out;
  const std::string msg = err["msg"].get<std::string>();
  EXPECT_THAT(msg, HasSubstr("duplicate address detection failed"));
  EXPECT_THAT(msg, HasSubstr("fd00:7d::3"));
  EXPECT_THAT(msg, HasSubstr("eth0"));

  // Rolled back: no veth on the host, no interface in b, no lease for b (the kernel and the store).
  EXPECT_EQ(link_names(host()), host_links) << "veth of the failed ADD left on the host";
  EXPECT_THAT(link_names(b), ::testing::ElementsAre("lo"));
  EXPECT_THAT(leases(), ::testing::ElementsAre("fd00:7d::2"));

  // a still works, and b's ADD succeeds once the conflict is gone.
  EXPECT_EQ(a.exec("ping -6 -c1 -W2 fd00:7d::1 2>&1", &out), 0) << out;
  ASSERT_EQ(a.exec("ip -6 addr del fd00:7d::3/64 dev eth0 2>&1", &out), 0) << out;
  add_ok(b, "cb", c);
  del_ok(b, "cb", c);
  del_ok(a, "ca", c);
  EXPECT_TRUE(leases().empty());
}

}  // namespace
}  // namespace tether::testing
