// Reboot story: the IPAM store is on disk and survives, but every container netns and the bridge are
// gone (a reboot, or a runtime that lost its containers without DEL). The stale leases keep their
// addresses until the runtime's GC (cni.dev/valid-attachments = what is really alive) reclaims them;
// a DEL with the stale netns path also succeeds and releases. With `iptables_survive` the NAT rules
// of the dead attachments are still there too (no reboot, just lost containers): GC removes them and
// keeps the live one's. A real reboot empties the nat table, which is the other variant.
#include <dirent.h>

#include <memory>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "lib/net/ip.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

constexpr const char* kNet = "rebootnet";
constexpr const char* kBridge = "ttrb0";
constexpr int kPool = 5;  // 10.82.0.0/29: .2-.6 (.1 is the gateway, .7 broadcast)

std::string numbered(const char* prefix, int i) { return std::string(prefix).append(std::to_string(i)); }

class RebootStoryTest : public NetnsTest, public ::testing::WithParamInterface<std::tuple<bool, const char*>> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
  }
  void TearDown() override {
    ctrs_.clear();
    NetnsTest::TearDown();
  }

  json conf(int port, const json& valid = nullptr) const {
    json c = nat_bridge_conf(kNet, kBridge, data_dir_, "10.82.0.0/29", std::get<1>(GetParam()));
    if (!valid.is_null()) {
      c["cni.dev/valid-attachments"] = valid;
    } else {
      c["runtimeConfig"] = one_port_mapping(port);
    }
    return c;
  }
  // Container `id` gets host port 32000 + the number in its id.
  PluginRun call(const std::string& cmd, const std::string& id, const std::string& netns, const json& valid = nullptr) {
    return tether(cni_env(cmd, id, netns), conf(32000 + std::stoi(id.substr(id.find('-') + 1)), valid).dump());
  }
  TestNetns& ctr(const std::string& id) {
    auto& slot = ctrs_[id];
    if (!slot) slot = std::make_unique<TestNetns>(id);
    return *slot;
  }
  std::string add(const std::string& id) {
    PluginRun r = call("ADD", id, ctr(id).path());
    EXPECT_EQ(r.exit_code, 0) << id << ": " << r.out << r.err;
    if (r.exit_code != 0) return {};
    return net::IpPrefix::parse(json::parse(r.out)["ips"][0]["address"].get<std::string>())->address().to_string();
  }
  // Lease file name → owner container id.
  std::map<std::string, std::string> leases() {
    std::map<std::string, std::string> out;
    const std::string dir = data_dir_ + "/" + kNet;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      if (!net::IpAddress::parse(e->d_name)) continue;
      std::string owner;
      shell("cat " + dir + "/" + e->d_name, &owner);
      out[e->d_name] = owner.substr(0, owner.find('\r'));
    }
    ::closedir(d);
    return out;
  }
  // Per-attachment rules in the host's nat table, by container id (from the rule comment).
  std::set<std::string> rule_owners() {
    const auto all = firewall_owners(host());
    return {all.begin(), all.end()};
  }

  std::string data_dir_;
  std::map<std::string, std::unique_ptr<TestNetns>> ctrs_;
};

TEST_P(RebootStoryTest, GcWithTheLiveListReclaimsLeasesOfVanishedNetns) {
  const bool rules_survive = std::get<0>(GetParam());
  const bool nft = std::string(std::get<1>(GetParam())) == "nftables";
  // Before the "reboot": four of the five addresses are leased.
  for (int i = 0; i < kPool - 1; ++i) ASSERT_FALSE(add(numbered("old-", i)).empty());
  ASSERT_EQ(leases().size(), static_cast<size_t>(kPool - 1));

  // The "reboot": every container netns and the bridge disappear; the store on disk does not.
  std::vector<std::string> stale_paths;
  for (int i = 0; i < kPool - 1; ++i) {
    stale_paths.push_back(ctr(numbered("old-", i)).path());
    ctrs_.erase(numbered("old-", i));
  }
  std::string out;
  ASSERT_EQ(host().exec(std::string("ip link del ") + kBridge, &out), 0) << out;
  if (!rules_survive) {
    const std::string flush = nft ? "nft delete table ip tether; nft delete table ip6 tether; true"
                                  : "iptables-legacy -t nat -F && iptables-legacy -t nat -X && "
                                    "ip6tables-legacy -t nat -F && ip6tables-legacy -t nat -X";
    ASSERT_EQ(host().exec(flush, &out), 0) << out;
  }
  EXPECT_EQ(leases().size(), static_cast<size_t>(kPool - 1)) << "the store survives";

  // A new container gets the one free address; the next one finds the pool exhausted by stale leases.
  const std::string live_ip = add("new-0");
  ASSERT_FALSE(live_ip.empty());
  PluginRun full = call("ADD", "new-1", ctr("new-1").path());
  EXPECT_NE(full.exit_code, 0) << "pool should be exhausted by stale leases: " << full.out;
  EXPECT_EQ(ctr("new-1").exec("ip link show eth0", &out), 1) << "a failed ADD leaves nothing: " << out;

  // The runtime's DEL with the stale netns path (no longer a netns) succeeds and releases that lease.
  PluginRun del = call("DEL", "old-0", stale_paths[0]);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_EQ(leases().size(), static_cast<size_t>(kPool - 1));

  // GC with what is really alive reclaims the rest and keeps the live container whole.
  PluginRun gc = call("GC", "new-0", "", json::array({{{"containerID", "new-0"}, {"ifname", "eth0"}}}));
  ASSERT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_EQ(leases(), (std::map<std::string, std::string>{{live_ip, "new-0"}}));
  const auto owners = rule_owners();
  EXPECT_EQ(owners.count("new-0"), 1u) << "live DNAT kept";
  EXPECT_EQ(owners.size(), 1u) << "only the live attachment's rules remain";
  if (!nft) {
    std::string save;
    host().exec("iptables-legacy-save -t nat", &save);
    EXPECT_NE(save.find(":network net=" + std::string(kNet) + "\" -j MASQUERADE"), std::string::npos)
        << "the network's masquerade stays while it has a DNAT rule\n"
        << save;
  }
  ASSERT_EQ(ctr("new-0").exec("ip -4 -o addr show dev eth0", &out), 0);
  EXPECT_NE(out.find(" " + live_ip + "/29"), std::string::npos) << out;

  // The reclaimed addresses are usable again: the pool fills up exactly.
  std::set<std::string> ips{live_ip};
  for (int i = 1; i < kPool; ++i) ips.insert(add(numbered("new-", i)));
  EXPECT_EQ(ips.size(), static_cast<size_t>(kPool));
  PluginRun over = call("ADD", "new-9", ctr("new-9").path());
  EXPECT_NE(over.exit_code, 0) << over.out;

  // Cleanup as a runtime would; the empty-list GC then has nothing left to do.
  for (int i = 0; i < kPool; ++i)
    EXPECT_EQ(call("DEL", numbered("new-", i), ctr(numbered("new-", i)).path()).exit_code, 0);
  EXPECT_EQ(call("DEL", "new-9", ctr("new-9").path()).exit_code, 0);
  EXPECT_EQ(call("GC", "new-0", "", json::array()).exit_code, 0);
  EXPECT_TRUE(leases().empty());
  EXPECT_TRUE(rule_owners().empty());
}

INSTANTIATE_TEST_SUITE_P(Reboot, RebootStoryTest, ::testing::Combine(::testing::Bool(), ::testing::ValuesIn(kBackends)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param) ? "RulesSurvive_" : "RulesFlushed_") +
                                  std::get<1>(info.param);
                         });

}  // namespace
}  // namespace tether::testing
