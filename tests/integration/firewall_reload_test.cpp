// `tether firewall-reload` after the host's firewall was wiped, on each backend: nftables after
// `nft flush ruleset` (what a restarted nftables.service does), libiptc after `iptables-legacy -t
// nat -F/-X`. Before the reload CHECK fails and traffic is cut; after it NAT and the published port
// work again; a second reload changes nothing; an attachment DEL'd or GC'd before the wipe does not
// come back. Torn, empty and hostile state files are skipped with a warning naming them.
//
//   outside (10.86.0.2) ── eth0 | tvr0 [host 10.86.0.1] ttrl0 (10.87.0.1) ── c1, c2, c3 (10.87.0.x)
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "fixture/traffic.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using traffic::tcp_exchange;
namespace fs = std::filesystem;

constexpr const char* kNet = "reloadnet";
constexpr const char* kBridge = "ttrl0";
constexpr const char* kHostUplink = "10.86.0.1";
constexpr const char* kOutside = "10.86.0.2";
constexpr int kHostPort = 18081;

class FirewallReloadTest : public NetnsTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    out_ = &add_container("out");
    traffic::link_outside(host(), "tvr0", kHostUplink, *out_, kOutside);
  }

  bool nftables() const { return GetParam() == std::string("nftables"); }
  std::string state_dir() const { return data_dir_ + "/.state"; }
  json conf() const {
    json c = nat_bridge_conf(kNet, kBridge, data_dir_, "10.87.0.0/24", GetParam());
    c["isDefaultGateway"] = true;
    return c;
  }
  json add(const std::string& id, TestNetns& ctr, const json& c) {
    PluginRun r = tether(cni_env("ADD", id, ctr.path()), c.dump());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
  PluginRun check(const std::string& id, TestNetns& ctr, json c, const json& result) {
    c["prevResult"] = result;
    return tether(cni_env("CHECK", id, ctr.path()), c.dump());
  }
  // `tether firewall-reload` in the host netns: exit status, stdout + stderr in *out.
  int reload(std::string* out) {
    return host().exec(std::string(TETHER_BIN_DIR) + "/tether firewall-reload --state-dir " + state_dir() + " 2>&1",
                       out);
  }
  // What the host's firewall holds that the wipe removes.
  void wipe() {
    std::string out;
    const std::string cmd = nftables() ? "nft flush ruleset" : "iptables-legacy -t nat -F && iptables-legacy -t nat -X";
    ASSERT_EQ(host().exec(cmd, &out), 0) << out;
    ASSERT_TRUE(tether_firewall(host()).empty()) << "the wipe left rules of ours";
  }
  std::string ip_of(const json& result) {
    const std::string a = result["ips"][0]["address"].get<std::string>();
    return a.substr(0, a.find('/'));
  }

  std::string data_dir_;
  TestNetns* out_ = nullptr;
};

TEST_P(FirewallReloadTest, RestoresWhatTheWipeTookAndNothingElse) {
  TestNetns& c1 = add_container("c1");
  TestNetns& c2 = add_container("c2");
  TestNetns& c3 = add_container("c3");
  json pub = conf();
  pub["runtimeConfig"] = one_port_mapping(kHostPort);
  const json r1 = add("c1", c1, pub);
  json pub2 = conf();
  pub2["runtimeConfig"] = one_port_mapping(kHostPort + 1);
  add("c2", c2, pub2);
  add("c3", c3, conf());
  EXPECT_EQ(tcp_exchange(c1, 80, *out_, kHostUplink, kHostPort), kOutside) << "published port before the wipe";
  EXPECT_EQ(tcp_exchange(*out_, 9000, c1, kOutside, 9000), kHostUplink) << "masqueraded before the wipe";

  // c2 goes by DEL, c3 by GC: neither may come back.
  PluginRun d = tether(cni_env("DEL", "c2", c2.path()), pub2.dump());
  ASSERT_EQ(d.exit_code, 0) << d.out << d.err;
  json gc = conf();
  gc["cni.dev/valid-attachments"] = json::array({{{"containerID", "c1"}, {"ifname", "eth0"}}});
  PluginRun g = tether(cni_env("GC", "", ""), gc.dump());
  ASSERT_EQ(g.exit_code, 0) << g.out << g.err;
  const std::vector<std::string> rules = tether_firewall(host());
  EXPECT_THAT(firewall_owners(host()), Not(::testing::Contains("c2")));
  EXPECT_THAT(firewall_owners(host()), Not(::testing::Contains("c3")));
  ASSERT_THAT(firewall_owners(host()), ::testing::Contains("c1"));

  wipe();
  PluginRun broken = check("c1", c1, pub, r1);
  EXPECT_NE(broken.exit_code, 0) << "CHECK passed without the rules: " << broken.out;
  EXPECT_NE(tcp_exchange(c1, 80, *out_, kHostUplink, kHostPort), kOutside) << "published port survived the wipe";
  EXPECT_NE(tcp_exchange(*out_, 9000, c1, kOutside, 9000), kHostUplink) << "masquerade survived the wipe";

  std::string out;
  ASSERT_EQ(reload(&out), 0) << out;
  EXPECT_THAT(out, HasSubstr("1 attachments in " + state_dir() + ": 1 restored, 0 already present, 0 failed")) << out;
  EXPECT_EQ(tether_firewall(host()), rules) << "the reload wrote exactly what was there before the wipe";
  PluginRun ok = check("c1", c1, pub, r1);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(tcp_exchange(c1, 80, *out_, kHostUplink, kHostPort), kOutside) << "published port after the reload";
  EXPECT_EQ(tcp_exchange(*out_, 9000, c1, kOutside, 9000), kHostUplink) << "masquerade after the reload";

  // Idempotent: a second pass only reads.
  ASSERT_EQ(reload(&out), 0) << out;
  EXPECT_THAT(out, HasSubstr("1 attachments in " + state_dir() + ": 0 restored, 1 already present, 0 failed")) << out;
  EXPECT_EQ(tether_firewall(host()), rules);

  // After the last DEL a reload has nothing to restore.
  PluginRun d1 = tether(cni_env("DEL", "c1", c1.path()), pub.dump());
  ASSERT_EQ(d1.exit_code, 0) << d1.out << d1.err;
  ASSERT_EQ(reload(&out), 0) << out;
  EXPECT_TRUE(tether_firewall(host()).empty()) << ::testing::PrintToString(tether_firewall(host()));
}

TEST_P(FirewallReloadTest, TornEmptyAndHostileStateFilesAreSkippedByName) {
  TestNetns& c1 = add_container("c1");
  json pub = conf();
  pub["runtimeConfig"] = one_port_mapping(kHostPort);
  const json r1 = add("c1", c1, pub);
  const std::vector<std::string> rules = tether_firewall(host());

  const fs::path net_dir = fs::path(state_dir()) / kNet;
  std::vector<fs::path> good;
  for (const auto& e : fs::directory_iterator(net_dir))
    if (e.path().extension() == ".json") good.push_back(e.path());
  ASSERT_EQ(good.size(), 1u);
  std::ifstream in(good[0]);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  json hostile = json::parse(text);
  hostile["network"] = "../../etc";
  json mistyped = json::parse(text);
  mistyped["portMappings"] = "all of them";
  json elsewhere = json::parse(text);  // a valid attachment of another network, filed under this one
  elsewhere["network"] = "othernet";
  elsewhere["ips"] = json::array({"10.87.9.9"});
  const std::vector<std::pair<std::string, std::string>> files = {
      {"torn.json", text.substr(0, text.size() / 2)},
      {"empty.json", ""},
      {"hostile.json", hostile.dump()},
      {"mistyped.json", mistyped.dump()},
      {"elsewhere.json", elsewhere.dump()},
  };
  for (const auto& [name, content] : files) std::ofstream(net_dir / name) << content;
  fs::create_directories(fs::path(state_dir()) / "bad name!");
  std::ofstream(fs::path(state_dir()) / "bad name!" / "x.json") << text;

  wipe();
  std::string out;
  EXPECT_EQ(reload(&out), 0) << out;
  for (const auto& [name, content] : files) EXPECT_THAT(out, HasSubstr(name)) << "no warning naming " << name;
  EXPECT_THAT(out, HasSubstr("bad name!"));
  EXPECT_THAT(out, HasSubstr("1 attachments in " + state_dir() + ": 1 restored")) << out;
  EXPECT_EQ(tether_firewall(host()), rules) << "only c1's rules, nothing of the hostile files";
  PluginRun ok = check("c1", c1, pub, r1);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  for (const auto& [name, content] : files) fs::remove(net_dir / name);
  PluginRun d = tether(cni_env("DEL", "c1", c1.path()), pub.dump());
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_TRUE(tether_firewall(host()).empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, FirewallReloadTest, ::testing::ValuesIn(kBackends), backend_test_name);

}  // namespace
}  // namespace tether::testing
