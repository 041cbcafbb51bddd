// tether chained after another plugin (spec §ADD: a prevResult is passed on, never dropped): the
// tether binary end to end with a prevResult holding another plugin's interface, IP, route and DNS.
// ADD prints them all plus tether's own entries; CHECK and DEL work on that merged result and only
// ever look at or touch tether's own entries.

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/leases.hpp"
#include "fixture/netns_fixture.hpp"
#include "lib/net/ip.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

constexpr const char* kBridge = "ttp0";

// Helpers copied from bridge_plugin_test.cpp (BridgePluginTest), on this file's bridge and subnet.
class PrevResultTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
  }

  json ipam(const std::string& ranges = R"([[{"subnet":"10.126.0.0/24"}]])") {
    return json::parse(R"({"type":"tether-ipam","ranges":)" + ranges + R"(,"dataDir":")" + data_dir_ + "\"}");
  }
  json conf(const std::string& version = "1.1.0", const json& extra = json::object()) {
    json c = {{"cniVersion", version},
              {"name", "tnet"},
              {"type", "tether"},
              {"bridge", kBridge},
              {"isGateway", true},
              {"ipam", ipam()},
              {"stateDir", data_dir_ + "/.state"}};  // never the host's /run/tether
    for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
    return c;
  }
  PluginRun call(const std::string& cmd, const std::string& id, const std::string& netns, const json& c) {
    return tether(cni_env(cmd, id, netns, "eth0"), c.dump());
  }
  static json with_prev(const json& c, const json& prev) {
    json cc = c;
    cc["prevResult"] = prev;
    return cc;
  }
  std::vector<std::string> leases() { return lease_files(data_dir_ + "/tnet"); }
  json ip_json(TestNetns& ns, const std::string& args) {
    std::string out;
    EXPECT_EQ(ns.exec("ip -j -d " + args, &out), 0) << out;
    return json::parse(out.empty() ? "[]" : out);
  }
  bool has_link(TestNetns& ns, const std::string& name) {
    for (const auto& l : ip_json(ns, "link show"))
      if (l["ifname"] == name) return true;
    return false;
  }
  std::vector<std::string> host_veths() {
    std::vector<std::string> out;
    for (const auto& l : ip_json(host(), "link show type veth")) out.push_back(l["ifname"]);
    return out;
  }

  std::string data_dir_;
};

// What an earlier plugin of the list made and printed: dummy0 in the container with 10.99.0.5/24,
// a route through it (really there, on dummy0), and DNS.
json foreign_prev_result(TestNetns& ctr) {
  std::string out;
  // (A veth pair: the dummy link type may not be built into the test kernel.)
  EXPECT_EQ(ctr.exec("ip link add dummy0 address 0a:58:0a:63:00:05 type veth peer name dummy0p && "
                     "ip addr add 10.99.0.5/24 dev dummy0 && ip link set dummy0p up && ip link set dummy0 up && "
                     "ip route add 10.98.0.0/16 via 10.99.0.1 dev dummy0",
                     &out),
            0)
      << out;
  return json::parse(R"({"cniVersion":"1.1.0",
    "interfaces":[{"name":"dummy0","mac":"0a:58:0a:63:00:05","sandbox":")" +
                     ctr.path() + R"("}],
    "ips":[{"address":"10.99.0.5/24","gateway":"10.99.0.1","interface":0}],
    "routes":[{"dst":"10.98.0.0/16","gw":"10.99.0.1"}],
    "dns":{"nameservers":["10.99.0.53"],"domain":"foreign.example","search":["foreign.example"]}})");
}

TEST_F(PrevResultTest, AddPassesPrevResultOnCheckAndDelUseTheMergedResult) {
  TestNetns& ctr = add_container();
  // ipMasq + a port mapping: CHECK then also compares NAT rules built from the merged result.
  json c = conf("1.1.0", {{"isDefaultGateway", true},
                          {"ipMasq", true},
                          {"dns", {{"nameservers", {"10.126.0.53"}}}},
                          {"capabilities", {{"portMappings", true}}},
                          {"runtimeConfig", one_port_mapping(18126)}});
  const json prev = foreign_prev_result(ctr);

  PluginRun add = call("ADD", "c1", ctr.path(), with_prev(c, prev));
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  const json res = json::parse(add.out);
  EXPECT_EQ(res["cniVersion"], "1.1.0");

  // interfaces: the earlier plugin's first, unchanged, then tether's three.
  ASSERT_EQ(res["interfaces"].size(), 4u) << res.dump();
  EXPECT_EQ(res["interfaces"][0], prev["interfaces"][0]);
  EXPECT_EQ(res["interfaces"][1]["name"], kBridge);
  EXPECT_THAT(res["interfaces"][2]["name"].get<std::string>(), StartsWith("veth"));
  EXPECT_FALSE(res["interfaces"][2].contains("sandbox"));
  EXPECT_EQ(res["interfaces"][3]["name"], "eth0");
  EXPECT_EQ(res["interfaces"][3]["sandbox"], ctr.path());
  EXPECT_EQ(res["interfaces"][3]["mac"], ip_json(ctr, "link show eth0")[0]["address"]);

  // ips: the earlier plugin's on index 0, tether's on index 3 (its eth0).
  ASSERT_EQ(res["ips"].size(), 2u) << res.dump();
  EXPECT_EQ(res["ips"][0], prev["ips"][0]);
  EXPECT_EQ(res["ips"][1]["address"], "10.126.0.2/24");
  EXPECT_EQ(res["ips"][1]["gateway"], "10.126.0.1");
  EXPECT_EQ(res["ips"][1]["interface"], 3);

  // routes: the earlier plugin's, then tether's default route.
  ASSERT_EQ(res["routes"].size(), 2u) << res.dump();
  EXPECT_EQ(res["routes"][0], prev["routes"][0]);
  EXPECT_EQ(res["routes"][1]["dst"], "0.0.0.0/0");
  EXPECT_EQ(res["routes"][1]["gw"], "10.126.0.1");

  // dns: tether's nameservers replace the earlier ones; the fields tether does not set are kept.
  EXPECT_EQ(res["dns"]["nameservers"], json::array({"10.126.0.53"}));
  EXPECT_EQ(res["dns"]["domain"], "foreign.example");
  EXPECT_EQ(res["dns"]["search"], json::array({"foreign.example"}));

  // The container: tether's address on eth0, the earlier plugin's dummy0 untouched.
  EXPECT_THAT(ip_json(ctr, "addr show eth0").dump(), HasSubstr("\"local\":\"10.126.0.2\""));
  EXPECT_THAT(ip_json(ctr, "addr show dummy0").dump(), HasSubstr("\"local\":\"10.99.0.5\""));
  EXPECT_EQ(leases().size(), 1u);

  // CHECK with the merged result (what the runtime stored) finds tether's entries among the others.
  PluginRun chk = call("CHECK", "c1", ctr.path(), with_prev(c, res));
  EXPECT_EQ(chk.exit_code, 0) << chk.out << chk.err;
  EXPECT_TRUE(chk.out.empty()) << chk.out;
  // ... and still checks them: tether's default route gone → CHECK fails naming it.
  ASSERT_EQ(ctr.exec("ip route del default via 10.126.0.1 dev eth0"), 0);
  chk = call("CHECK", "c1", ctr.path(), with_prev(c, res));
  EXPECT_NE(chk.exit_code, 0);
  EXPECT_THAT(chk.out, HasSubstr("0.0.0.0/0"));

  // DEL with the merged result: tether's lease, veth and NAT rules go; the earlier plugin's stay.
  const std::string host_veth = res["interfaces"][2]["name"];
  PluginRun del = call("DEL", "c1", ctr.path(), with_prev(c, res));
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_TRUE(del.out.empty()) << del.out;
  EXPECT_TRUE(leases().empty());
  EXPECT_FALSE(has_link(ctr, "eth0"));
  EXPECT_FALSE(has_link(host(), host_veth));
  EXPECT_THAT(host_veths(), ::testing::IsEmpty());
  EXPECT_TRUE(has_link(ctr, "dummy0"));
  std::string nat;
  host().exec("iptables-legacy-save -t nat", &nat);
  EXPECT_THAT(nat, ::testing::Not(HasSubstr("10.126.0.2")));
  del = call("DEL", "c1", ctr.path(), with_prev(c, res));  // repeated DEL succeeds
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
}

// DEL without a netns removes the host veth named in prevResult: with other plugins' host links in
// the merged result too, only the one that is a veth port of tether's bridge goes.
TEST_F(PrevResultTest, DelWithoutNetnsRemovesOnlyTetherVethAmongOthers) {
  TestNetns& ctr = add_container();
  json c = conf();
  std::string out;
  // Another plugin's host-side veth, on a bridge of its own.
  ASSERT_EQ(host().exec("ip link add ttpo0 type bridge && ip link add ttpx0 type veth peer name ttpx1 && "
                        "ip link set ttpx0 master ttpo0",
                        &out),
            0)
      << out;
  json prev = json::parse(R"({"cniVersion":"1.1.0","interfaces":[{"name":"ttpo0"},{"name":"ttpx0"},
    {"name":"ttpx1","sandbox":"/var/run/netns/elsewhere"}],"ips":[{"address":"10.99.1.5/24","interface":2}]})");
  PluginRun add = call("ADD", "c1", ctr.path(), with_prev(c, prev));
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  const json res = json::parse(add.out);
  ASSERT_EQ(res["interfaces"].size(), 6u) << res.dump();
  EXPECT_EQ(res["ips"][1]["interface"], 5);
  PluginRun chk = call("CHECK", "c1", ctr.path(), with_prev(c, res));
  EXPECT_EQ(chk.exit_code, 0) << chk.out << chk.err;

  const std::string host_veth = res["interfaces"][4]["name"];
  PluginRun del = call("DEL", "c1", "", with_prev(c, res));
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_FALSE(has_link(host(), host_veth));
  EXPECT_FALSE(has_link(ctr, "eth0"));
  EXPECT_TRUE(has_link(host(), "ttpx0")) << "not a port of tether's bridge: left alone";
  EXPECT_TRUE(has_link(host(), "ttpo0"));
  EXPECT_TRUE(leases().empty());
}

}  // namespace
}  // namespace tether::testing
