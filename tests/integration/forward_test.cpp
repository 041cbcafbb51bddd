// A host whose FORWARD policy drops, as Docker leaves it: tether's containers still reach the
// outside, the outside still reaches their published ports, and two containers on the bridge still
// talk (br_netfilter on, so bridged traffic passes FORWARD too). Docker's setup is reproduced in
// the fake host netns, once in legacy x_tables (iptables-legacy) and once through iptables-nft;
// after the last DEL none of tether's FORWARD rules remains and both save tools parse everything.
//
//   outside (10.88.0.2) ── eth0 | tvo0 [host 10.88.0.1] ttfw0 (10.89.0.1) ── c1, c2 (10.89.0.x)
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "fixture/traffic.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using traffic::tcp_exchange;

constexpr const char* kBridge = "ttfw0";
constexpr const char* kHostUplink = "10.88.0.1";
constexpr const char* kOutside = "10.88.0.2";

// Docker's filter-table skeleton (iptables backend of Docker 28), with the FORWARD policy it sets.
std::string docker_setup(const std::string& iptables) {
  return iptables + " -t nat -N DOCKER && " + iptables + " -N DOCKER-USER && " + iptables + " -N DOCKER-FORWARD && " +
         iptables + " -A DOCKER-USER -j RETURN && " + iptables + " -A FORWARD -j DOCKER-USER && " + iptables +
         " -A FORWARD -j DOCKER-FORWARD && " + iptables + " -P FORWARD DROP";
}

class ForwardTest : public NetnsTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    out_ = &add_container("out");
    c1_ = &add_container("c1");
    c2_ = &add_container("c2");
    traffic::link_outside(host(), "tvo0", kHostUplink, *out_, kOutside);
    std::string out;
    ASSERT_EQ(host().exec("sysctl -qw net.bridge.bridge-nf-call-iptables=1", &out), 0) << out;
    ASSERT_EQ(host().exec(docker_setup(iptables()), &out), 0) << out;
  }

  std::string iptables() const {
    return std::string("iptables-") + (GetParam() == std::string("legacy") ? "legacy" : "nft");
  }
  json conf(bool forward_accept = true) {
    json c = nat_bridge_conf("fwnet", kBridge, data_dir_, "10.89.0.0/24", "auto");
    c["forwardAccept"] = forward_accept;
    c["isDefaultGateway"] = true;
    return c;
  }
  json add(const std::string& id, TestNetns& ctr, json c) {
    PluginRun r = tether(cni_env("ADD", id, ctr.path()), c.dump());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(r.out.empty() ? "{}" : r.out);
  }
  void del(const std::string& id, TestNetns& ctr, const json& c) {
    PluginRun r = tether(cni_env("DEL", id, ctr.path()), c.dump());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::string ip_of(const json& result) {
    return result["ips"][0]["address"].get<std::string>().substr(0, result["ips"][0]["address"].get<std::string>().find(
                                                                        '/'));
  }
  std::string save() {
    std::string out;
    EXPECT_EQ(host().exec(iptables() + "-save", &out), 0) << out;
    return out;
  }

  std::string data_dir_;
  TestNetns* out_ = nullptr;
  TestNetns* c1_ = nullptr;
  TestNetns* c2_ = nullptr;
};

TEST_P(ForwardTest, ContainersWorkOnADockerHostAndNothingStaysBehind) {
  // The drop is real: without tether's accepts the container cannot get out.
  json off = conf(false);
  add("c1", *c1_, off);
  EXPECT_EQ(tcp_exchange(*out_, 9000, *c1_, kOutside, 9000).rfind("error:", 0), 0u) << "FORWARD policy did not drop";
  del("c1", *c1_, off);

  json pub = conf();
  pub["runtimeConfig"] = one_port_mapping(18080);
  const json r1 = add("c1", *c1_, pub);
  const json r2 = add("c2", *c2_, conf());
  const std::string ip1 = ip_of(r1), ip2 = ip_of(r2);

  EXPECT_EQ(tcp_exchange(*out_, 9000, *c1_, kOutside, 9000), kHostUplink) << "out through NAT and FORWARD";
  EXPECT_EQ(tcp_exchange(*c1_, 80, *out_, kHostUplink, 18080), kOutside) << "published port from outside";
  EXPECT_EQ(tcp_exchange(*c1_, 81, *c2_, ip1, 81), ip2) << "container to container on the bridge";

  const std::string during = save();
  EXPECT_THAT(during, HasSubstr("-A DOCKER-USER -m comment --comment \"tether:shared forward\" -j TETHER-FORWARD"));
  EXPECT_THAT(during, HasSubstr("-A TETHER-FORWARD -s 10.89.0.0/24"));
  EXPECT_THAT(during, HasSubstr("--ctstate RELATED,ESTABLISHED"));
  EXPECT_THAT(during, HasSubstr("--ctstate DNAT"));
  // Each rule as the iptables CLI itself would write it: `-C` builds the bytes from the listed text.
  for (std::size_t pos = 0; (pos = during.find("-A TETHER-FORWARD ", pos)) != std::string::npos; ++pos) {
    const std::string line = during.substr(pos, during.find('\n', pos) - pos);
    std::string out;
    EXPECT_EQ(host().exec(iptables() + " -C" + line.substr(2), &out), 0) << line << "\n" << out;
  }

  // CHECK sees the accepts; without them it fails.
  json check = pub;
  check["prevResult"] = r1;
  PluginRun ok = tether(cni_env("CHECK", "c1", c1_->path()), check.dump());
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  del("c1", *c1_, pub);
  EXPECT_EQ(tcp_exchange(*out_, 9000, *c2_, kOutside, 9000), kHostUplink) << "the network keeps its accepts";
  del("c2", *c2_, conf());
  const std::string after = save();
  EXPECT_THAT(after, ::testing::Not(HasSubstr("TETHER"))) << after;
  EXPECT_THAT(after, HasSubstr("-A FORWARD -j DOCKER-USER")) << "Docker's own chains untouched";
  EXPECT_THAT(after, HasSubstr(":FORWARD DROP"));
  std::string out;
  EXPECT_EQ(host().exec("iptables-legacy-save >/dev/null && iptables-nft-save >/dev/null", &out), 0) << out;
}

INSTANTIATE_TEST_SUITE_P(DockerHosts, ForwardTest, ::testing::Values("legacy", "nft"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace tether::testing
