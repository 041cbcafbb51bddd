// IPAM config → Plan: host-local's defaults and every validation error naming its key (code 7).
#include <gtest/gtest.h>

#include "ipam/config.hpp"
#include "lib/cni/conf.hpp"
#include "lib/cni/error.hpp"
#include "lib/util/error.hpp"

namespace tether::ipam {
namespace {

cni::NetConf conf_with(const std::string& ipam, const std::string& extra = "", const std::string& version = "1.1.0") {
  return cni::parse_netconf(R"({"cniVersion":")" + version + R"(","name":"net1","type":"x",)" + extra + R"("ipam":)" +
                            ipam + "}");
}

Plan plan_of(const std::string& ipam, const std::string& extra = "", const std::string& args = "",
             const std::string& version = "1.1.0") {
  return build_plan(conf_with(ipam, extra, version), args);
}

// Expects code 7 (or `code`) and a message naming `key`.
void expect_error(const std::string& ipam, const std::string& key, const std::string& extra = "",
                  const std::string& args = "", const std::string& version = "1.1.0", int code = cni::kInvalidConfig) {
  try {
    plan_of(ipam, extra, args, version);
    ADD_FAILURE() << "no error for " << ipam;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << "message '" << e.what() << "' lacks " << key;
  }
}

TEST(IpamConfig, Ipv4Defaults) {
  const Plan p = plan_of(R"({"type":"tether-ipam","ranges":[[{"subnet":"10.1.0.0/24"}]]})");
  EXPECT_EQ(p.store.data_dir, "/var/lib/cni/networks");
  EXPECT_EQ(p.store.network, "net1");
  ASSERT_EQ(p.range_sets.size(), 1u);
  const Range& r = p.range_sets[0].ranges[0];
  EXPECT_EQ(r.start.to_string(), "10.1.0.1");
  EXPECT_EQ(r.end.to_string(), "10.1.0.254");
  EXPECT_EQ(r.gateway.to_string(), "10.1.0.1");
  EXPECT_TRUE(p.routes.empty());
  ASSERT_EQ(p.requested.size(), 1u);
  EXPECT_FALSE(p.requested[0]);
}

TEST(IpamConfig, Ipv6DefaultEndIsLastAddress) {
  const Plan p = plan_of(R"({"ranges":[[{"subnet":"fd00:1::/64"}]],"dataDir":"/tmp/x"})");
  EXPECT_EQ(p.range_sets[0].ranges[0].end.to_string(), "fd00:1::ffff:ffff:ffff:ffff");
  EXPECT_EQ(p.store.data_dir, "/tmp/x");
}

TEST(IpamConfig, OrderIsRuntimeRangesThenLegacyThenRanges) {
  const Plan p = plan_of(R"({"subnet":"10.2.0.0/24","gateway":"10.2.0.254","ranges":[[{"subnet":"fd00::/64"}]]})",
                         R"("runtimeConfig":{"ipRanges":[[{"subnet":"10.3.0.0/24"}]]},)");
  ASSERT_EQ(p.range_sets.size(), 3u);
  EXPECT_EQ(p.range_sets[0].ranges[0].subnet.to_string(), "10.3.0.0/24");
  EXPECT_EQ(p.range_sets[1].ranges[0].subnet.to_string(), "10.2.0.0/24");
  EXPECT_EQ(p.range_sets[1].ranges[0].gateway.to_string(), "10.2.0.254");
  EXPECT_EQ(p.range_sets[2].ranges[0].subnet.to_string(), "fd00::/64");
}

TEST(IpamConfig, RoutesAndResolvConf) {
  const Plan p = plan_of(R"({"ranges":[[{"subnet":"10.1.0.0/24"}]],"resolvConf":"/etc/x",
      "routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.1.0.9","priority":5}]})");
  ASSERT_EQ(p.routes.size(), 2u);
  EXPECT_EQ(p.routes[0].dst.to_string(), "0.0.0.0/0");
  EXPECT_FALSE(p.routes[0].gw);
  EXPECT_EQ(p.routes[1].gw->to_string(), "10.1.0.9");
  EXPECT_EQ(p.routes[1].priority, 5);
  EXPECT_EQ(p.resolv_conf, "/etc/x");
}

TEST(IpamConfig, ValidationErrorsNameTheKey) {
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.1/24"}]]})", "ipam.ranges[0][0].subnet");  // host bits
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/31"}]]})", "ipam.ranges[0][0].subnet");  // too small
  expect_error(R"({"ranges":[[{"subnet":"fd00::/127"}]]})", "ipam.ranges[0][0].subnet");
  expect_error(R"({"ranges":[[{"subnet":"bogus"}]]})", "ipam.ranges[0][0].subnet");
  expect_error(R"({"ranges":[[{"rangeStart":"10.1.0.1"}]]})", "ipam.ranges[0][0].subnet");  // missing
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24","gateway":"10.2.0.1"}]]})", "ipam.ranges[0][0].gateway");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.2.0.1"}]]})", "ipam.ranges[0][0].rangeStart");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24","rangeEnd":"10.1.1.1"}]]})", "ipam.ranges[0][0].rangeEnd");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.9","rangeEnd":"10.1.0.5"}]]})",
               "ipam.ranges[0][0].rangeEnd");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"fd00::/64"}]]})", "ipam.ranges[0][1].subnet");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24"},{"subnet":"10.1.0.0/25"}]]})", "ipam.ranges[0][1]");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.1.0.128/25"}]]})", "ipam.ranges");
  expect_error(R"({"ranges":[[]]})", "ipam.ranges[0]");
  expect_error(R"({"type":"tether-ipam"})", "ipam.ranges");
  expect_error(R"({"ranges":"10.1.0.0/24"})", "ipam.ranges");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24"}]],"routes":[{"gw":"10.1.0.1"}]})", "ipam.routes[0].dst");
  expect_error(R"({"ranges":[[{"subnet":"10.1.0.0/24"}]],"routes":[{"dst":"10.0.0.0/33"}]})", "ipam.routes[0].dst");
  expect_error(R"({"ranges":[]})", "runtimeConfig.ipRanges[0][0].subnet",
               R"("runtimeConfig":{"ipRanges":[[{"subnet":"10.0.0.0/33"}]]},)");
}

TEST(IpamConfig, DisjointRangesOfOneSubnetMayBeSeparateSets) {
  // host-local compares range extents, not subnets.
  const Plan p = plan_of(R"({"ranges":[[{"subnet":"10.1.0.0/24","rangeEnd":"10.1.0.50"}],
      [{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.51"}]]})");
  EXPECT_EQ(p.range_sets.size(), 2u);
}

TEST(IpamConfig, OldVersionsAllowOneRangeSetPerFamily) {
  const std::string two_v4 = R"({"ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"10.2.0.0/24"}]]})";
  expect_error(two_v4, "ipam.ranges", "", "", "0.2.0");
  EXPECT_EQ(plan_of(two_v4, "", "", "0.3.1").range_sets.size(), 2u);
  EXPECT_EQ(plan_of(R"({"ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00::/64"}]]})", "", "", "0.2.0")
                .range_sets.size(),
            2u);
}

const std::string kDual = R"({"ranges":[[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00::/64"}]]})";

TEST(IpamConfig, RequestedIpsFromAllSourcesLandInTheirSets) {
  Plan p = plan_of(kDual, "", "IgnoreUnknown=1;K8S_POD_NAME=x;IP=10.1.0.9, fd00::9");
  EXPECT_EQ(p.requested[0]->to_string(), "10.1.0.9");
  EXPECT_EQ(p.requested[1]->to_string(), "fd00::9");
  p = plan_of(kDual, R"("args":{"cni":{"ips":["10.1.0.7/24"]}},"runtimeConfig":{"ips":["fd00::7"]},)");
  EXPECT_EQ(p.requested[0]->to_string(), "10.1.0.7");
  EXPECT_EQ(p.requested[1]->to_string(), "fd00::7");
}

TEST(IpamConfig, RequestedIpsThatCannotBeHonouredAreRejected) {
  expect_error(kDual, "CNI_ARGS IP", "", "IP=10.9.0.1");  // in no range set
  expect_error(kDual, "CNI_ARGS IP", "", "IP=10.1.0.1");  // the gateway
  expect_error(kDual, "CNI_ARGS IP", "", "IP=nonsense", "1.1.0", cni::kInvalidEnv);
  expect_error(kDual, "runtimeConfig.ips", R"("runtimeConfig":{"ips":["10.1.0.3"]},)", "IP=10.1.0.2");  // same set
  expect_error(kDual, "args.cni.ips", R"("args":{"cni":{"ips":["192.168.1.1"]}},)");
}

TEST(IpamConfig, NetworkNameCannotEscapeDataDir) {
  EXPECT_THROW(cni::parse_netconf(R"({"cniVersion":"1.0.0","name":"../etc","ipam":{}})"), Error);
  cni::NetConf c = conf_with(R"({"ranges":[[{"subnet":"10.1.0.0/24"}]]})");
  c.name = "..";
  EXPECT_THROW(store_location(c), Error);
  c.name = "a/b";
  EXPECT_THROW(store_location(c), Error);
}

TEST(IpamConfig, ResolvConfParsing) {
  const cni::Dns d = parse_resolv_conf(
      "# comment\nnameserver 10.0.0.53\nnameserver fd00::53 ; trailing\ndomain example.com\n"
      "search a.example b.example\noptions ndots:5 edns0\n\n  nameserver\n");
  EXPECT_EQ(d.nameservers, (std::vector<std::string>{"10.0.0.53", "fd00::53"}));
  EXPECT_EQ(d.domain, "example.com");
  EXPECT_EQ(d.search, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(d.options, (std::vector<std::string>{"ndots:5", "edns0"}));
  EXPECT_THROW(load_resolv_conf("/nonexistent/resolv.conf"), Error);
}

}  // namespace
}  // namespace tether::ipam
