// Result printing and parsing in every spec version against hand-written golden JSON
// (tests/fixtures/results/<version>/*.json, written from SPEC.md and the conversion rules).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "lib/cni/error.hpp"
#include "lib/cni/result_json.hpp"

namespace tether::cni {
namespace {

json load_fixture(const std::string& version, const std::string& name) {
  const std::string path = std::string(TETHER_FIXTURES_DIR) + "/results/" + version + "/" + name + ".json";
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

net::IpPrefix P(const char* s) { return *net::IpPrefix::parse(s); }
net::IpAddress A(const char* s) { return *net::IpAddress::parse(s); }

// The model behind full.json at 1.1.0.
Result full_model() {
  Result r;
  r.interfaces = {
      {"tether0", "0a:58:0a:00:00:01", 1500, "", "", ""},
      {"vethab12cd34", "0a:58:0a:00:00:02", 1500, "", "", ""},
      {"eth0", "0a:58:0a:00:00:05", 1450, "/var/run/netns/ctr1", "/run/vhost-user.sock", "0000:00:1f.6"},
  };
  r.ips = {{P("10.0.0.5/24"), A("10.0.0.1"), 2},
           {P("fd00::5/64"), A("fd00::1"), 2},
           {P("10.0.1.5/24"), std::nullopt, 2}};
  Route def4{P("0.0.0.0/0"), A("10.0.0.1"), 1400, 1360, 100, 254, 0};
  Route def6{P("::/0"), A("fd00::1"), {}, {}, {}, {}, {}};
  Route lan{P("192.168.0.0/16"), std::nullopt, {}, {}, {}, {}, 253};
  r.routes = {def4, def6, lan};
  r.dns = {{"10.0.0.53", "fd00::53"}, "cluster.local", {"default.svc.cluster.local", "svc.cluster.local"}, {"ndots:5"}};
  return r;
}

// What survives a trip through version v (what parsing v's golden file must give).
Result full_model_seen_at(const Version& v) {
  Result r = full_model();
  if (v >= kV110) return r;
  for (auto& i : r.interfaces) {
    i.mtu.reset();
    i.socket_path.clear();
    i.pci_id.clear();
  }
  for (auto& rt : r.routes) rt.mtu = rt.advmss = rt.priority = rt.table = rt.scope = std::nullopt;
  if (v >= kV030) return r;
  // 0.1.0/0.2.0: no interfaces, first IP per family, routes regrouped v4 then v6.
  Result legacy;
  legacy.ips = {{P("10.0.0.5/24"), A("10.0.0.1"), std::nullopt}, {P("fd00::5/64"), A("fd00::1"), std::nullopt}};
  legacy.routes = {r.routes[0], r.routes[2], r.routes[1]};
  legacy.dns = r.dns;
  return legacy;
}

Result ipam_model() {
  Result r;
  r.ips = {{P("10.22.0.9/16"), A("10.22.0.1"), std::nullopt}};
  r.routes = {{P("0.0.0.0/0"), std::nullopt, {}, {}, {}, {}, {}}};
  return r;
}

class CniResultVersions : public ::testing::TestWithParam<std::string> {
 protected:
  Version version() const { return *Version::parse(GetParam()); }
};

TEST_P(CniResultVersions, PrintsFullResultLikeGolden) {
  EXPECT_EQ(result_to_json(full_model(), version()), load_fixture(GetParam(), "full"));
}

TEST_P(CniResultVersions, PrintsIpamResultLikeGolden) {
  EXPECT_EQ(result_to_json(ipam_model(), version()), load_fixture(GetParam(), "ipam"));
}

TEST_P(CniResultVersions, ParsesGoldenAndConvertsUp) {
  EXPECT_EQ(result_from_json(load_fixture(GetParam(), "full"), kV110), full_model_seen_at(version()));
  EXPECT_EQ(result_from_json(load_fixture(GetParam(), "ipam"), kV110), ipam_model());
}

TEST_P(CniResultVersions, RoundTripIsStable) {
  for (const char* name : {"full", "ipam"}) {
    const json golden = load_fixture(GetParam(), name);
    EXPECT_EQ(result_to_json(result_from_json(golden, version()), version()), golden) << name;
  }
}

TEST_P(CniResultVersions, VersionlessResultTakesCallersVersion) {
  json golden = load_fixture(GetParam(), "full");
  golden.erase("cniVersion");
  EXPECT_EQ(result_from_json(golden, version()), full_model_seen_at(version()));
}

TEST_P(CniResultVersions, ResultWithoutIpsPrintsOnlyFromV030) {
  Result r;
  r.interfaces = {{"eth0", "", std::nullopt, "/var/run/netns/x", "", ""}};
  if (version() < kV030) {
    try {
      result_to_json(r, version());
      FAIL() << "expected code 1";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kIncompatibleVersion);
    }
  } else {
    const json j = result_to_json(r, version());
    EXPECT_EQ(j["interfaces"][0]["name"], "eth0");
    EXPECT_FALSE(j.contains("ips"));
    EXPECT_FALSE(j.contains("dns"));  // empty dns is left out
  }
}

INSTANTIATE_TEST_SUITE_P(AllVersions, CniResultVersions,
                         ::testing::Values("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"),
                         [](const auto& info) {
                           std::string n = "v" + info.param;
                           for (char& c : n) c = c == '.' ? '_' : c;
                           return n;
                         });

TEST(CniResult, OwnVersionWinsOverCallers) {
  // A 0.2.0-shaped prevResult inside a 1.0.0 config.
  const Result r = result_from_json(load_fixture("0.2.0", "ipam"), kV100);
  EXPECT_EQ(r, ipam_model());
  // ...and a 1.1.0 result inside a 0.2.0 config keeps its 1.1 fields.
  EXPECT_EQ(result_from_json(load_fixture("1.1.0", "full"), kV020), full_model());
}

TEST(CniResult, LegacyKeepsOnlyFirstAddressPerFamily) {
  Result r = ipam_model();
  r.ips.push_back({P("10.22.0.10/16"), std::nullopt, std::nullopt});
  r.ips.push_back({P("fd00::9/64"), std::nullopt, std::nullopt});
  const json j = result_to_json(r, kV020);
  EXPECT_EQ(j["ip4"]["ip"], "10.22.0.9/16");
  EXPECT_EQ(j["ip6"]["ip"], "fd00::9/64");
  EXPECT_FALSE(j["ip6"].contains("gateway"));
  EXPECT_FALSE(j["ip6"].contains("routes"));
}

struct BadResult {
  const char* name;
  const char* json_text;
  int code;
  const char* key;  // must appear in the message
};

class CniResultErrors : public ::testing::TestWithParam<BadResult> {};

TEST_P(CniResultErrors, NameTheKey) {
  const BadResult& c = GetParam();
  try {
    result_from_json(json::parse(c.json_text), kV100);
    FAIL() << "expected an error for " << c.json_text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), c.code) << e.what();
    EXPECT_NE(std::string(e.what()).find(c.key), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, CniResultErrors,
    ::testing::Values(
        BadResult{"NotObject", R"([1])", kInvalidConfig, "prevResult"},
        BadResult{"BadVersion", R"({"cniVersion": "9.9.9"})", kIncompatibleVersion, "prevResult.cniVersion"},
        BadResult{"IpsNotList", R"({"ips": {}})", kInvalidConfig, "prevResult.ips"},
        BadResult{"MissingAddress", R"({"ips": [{"gateway": "10.0.0.1"}]})", kInvalidConfig,
                  "prevResult.ips[0].address"},
        BadResult{"BadAddress", R"({"ips": [{"address": "10.0.0.300/24"}]})", kInvalidConfig,
                  "prevResult.ips[0].address"},
        BadResult{"AddressWithoutPrefix", R"({"ips": [{"address": "10.0.0.3"}]})", kInvalidConfig,
                  "prevResult.ips[0].address"},
        BadResult{"GatewayFamily", R"({"ips": [{"address": "10.0.0.3/24", "gateway": "fd00::1"}]})", kInvalidConfig,
                  "prevResult.ips[0].gateway"},
        BadResult{"InterfaceIndexRange",
                  R"({"interfaces": [{"name": "eth0"}], "ips": [{"address": "10.0.0.3/24", "interface": 1}]})",
                  kInvalidConfig, "prevResult.ips[0].interface"},
        BadResult{"InterfaceIndexType", R"({"ips": [{"address": "10.0.0.3/24", "interface": "0"}]})", kInvalidConfig,
                  "prevResult.ips[0].interface"},
        BadResult{"InterfaceName", R"({"interfaces": [{"mac": "aa"}]})", kInvalidConfig,
                  "prevResult.interfaces[0].name"},
        BadResult{"RouteDst", R"({"routes": [{"dst": "default"}]})", kInvalidConfig, "prevResult.routes[0].dst"},
        BadResult{"RouteGw", R"({"routes": [{"dst": "0.0.0.0/0", "gw": 7}]})", kInvalidConfig,
                  "prevResult.routes[0].gw"},
        BadResult{"DnsServers", R"({"dns": {"nameservers": "8.8.8.8"}})", kInvalidConfig, "prevResult.dns.nameservers"},
        BadResult{"DnsServerValue", R"({"dns": {"nameservers": ["resolver"]}})", kInvalidConfig,
                  "prevResult.dns.nameservers[0]"},
        BadResult{"IpVersionMismatch",
                  R"({"cniVersion": "0.4.0", "ips": [{"version": "6", "address": "10.0.0.3/24"}]})", kInvalidConfig,
                  "prevResult.ips[0].version"},
        BadResult{"LegacyIp", R"({"cniVersion": "0.2.0", "ip4": {"ip": "fd00::1/64"}})", kInvalidConfig,
                  "prevResult.ip4.ip"},
        BadResult{"LegacyRoutes",
                  R"({"cniVersion": "0.2.0", "ip4": {"ip": "10.0.0.2/24", "routes": [{"gw": "10.0.0.1"}]}})",
                  kInvalidConfig, "prevResult.ip4.routes[0].dst"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CniResult, DnsRoundTripOmitsEmptyFields) {
  Dns d;
  d.nameservers = {"1.1.1.1"};
  const json j = dns_to_json(d);
  EXPECT_EQ(j, json::parse(R"({"nameservers": ["1.1.1.1"]})"));
  EXPECT_EQ(dns_from_json(j, "dns"), d);
  EXPECT_TRUE(dns_from_json(json::object(), "dns").empty());
}

TEST(CniResult, CustomRootKeyInErrors) {
  try {
    result_from_json(json::parse(R"({"ips": [{}]})"), kV100, "result of plugin 'x'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("result of plugin 'x'.ips[0].address"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tether::cni
