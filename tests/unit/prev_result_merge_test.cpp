// Chaining: a prevResult given on ADD is passed on with the plugin's own result appended
// (lib/cni/prev_result_merge.hpp), and what that merged result looks like in every spec version.
#include <gtest/gtest.h>

#include "lib/cni/prev_result_merge.hpp"
#include "lib/cni/result_json.hpp"

namespace tether::cni {
namespace {

net::IpPrefix P(const char* s) { return *net::IpPrefix::parse(s); }
net::IpAddress A(const char* s) { return *net::IpAddress::parse(s); }

// What an earlier plugin in the list printed: one interface of its own, an IP on it, a route, DNS.
Result foreign() {
  Result r;
  r.interfaces = {{"dummy0", "0a:58:0a:63:00:05", 1500, "/var/run/netns/ctr1", "", ""}};
  r.ips = {{P("10.99.0.5/24"), A("10.99.0.1"), 0}};
  r.routes = {{P("10.98.0.0/16"), A("10.99.0.1"), {}, {}, {}, {}, {}}};
  r.dns = {{"10.99.0.53"}, "foreign.example", {"foreign.example"}, {"ndots:2"}};
  return r;
}

// What tether builds without a prevResult: bridge, host veth, container interface; IPs on index 2.
Result own() {
  Result r;
  r.interfaces = {
      {"ttp0", "0a:58:0a:7e:00:01", 1500, "", "", ""},
      {"veth1234abcd", "0a:58:0a:7e:00:02", 1500, "", "", ""},
      {"eth0", "0a:58:0a:7e:00:05", 1500, "/var/run/netns/ctr1", "", ""},
  };
  r.ips = {{P("10.126.0.5/24"), A("10.126.0.1"), 2}, {P("fd00:126::5/64"), A("fd00:126::1"), 2}};
  r.routes = {{P("0.0.0.0/0"), A("10.126.0.1"), {}, {}, {}, {}, {}}, {P("::/0"), A("fd00:126::1"), {}, {}, {}, {}, {}}};
  return r;
}

TEST(PrevResultMerge, AppendsOwnEntriesAfterPrevAndShiftsIpIndexes) {
  const Result m = merge_into_prev_result(foreign(), own());
  ASSERT_EQ(m.interfaces.size(), 4u);
  EXPECT_EQ(m.interfaces[0], foreign().interfaces[0]);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(m.interfaces[1 + i], own().interfaces[i]) << i;

  ASSERT_EQ(m.ips.size(), 3u);
  EXPECT_EQ(m.ips[0], foreign().ips[0]);  // index 0 still names dummy0
  EXPECT_EQ(m.ips[1].address, P("10.126.0.5/24"));
  EXPECT_EQ(m.ips[1].gateway, A("10.126.0.1"));
  EXPECT_EQ(m.ips[1].interface, 3);  // 2 + one previous interface
  EXPECT_EQ(m.ips[2].interface, 3);
  for (const auto& ip : m.ips)
    EXPECT_EQ(m.interfaces[static_cast<std::size_t>(*ip.interface)].sandbox, "/var/run/netns/ctr1");
  EXPECT_EQ(m.interfaces[3].name, "eth0");

  ASSERT_EQ(m.routes.size(), 3u);
  EXPECT_EQ(m.routes[0], foreign().routes[0]);
  EXPECT_EQ(m.routes[1], own().routes[0]);
  EXPECT_EQ(m.routes[2], own().routes[1]);
  EXPECT_EQ(m.dns, foreign().dns);  // tether had no DNS of its own
}

TEST(PrevResultMerge, LosesNothingOfPrev) {
  Result prev = foreign();
  prev.interfaces.push_back({"net9", "", std::nullopt, "", "/run/sock", "0000:00:1f.6"});  // 1.1 fields too
  prev.ips.push_back({P("fd00:99::5/64"), std::nullopt, 1});
  prev.ips.push_back({P("192.168.7.7/32"), std::nullopt, std::nullopt});  // names no interface
  prev.routes.push_back({P("192.168.0.0/16"), std::nullopt, 1400, 1360, 100, 254, 253});
  const Result m = merge_into_prev_result(prev, own());
  ASSERT_GE(m.interfaces.size(), prev.interfaces.size());
  ASSERT_GE(m.ips.size(), prev.ips.size());
  ASSERT_GE(m.routes.size(), prev.routes.size());
  // prev is an unchanged prefix of every list.
  EXPECT_EQ(std::vector<Interface>(m.interfaces.begin(), m.interfaces.begin() + 2), prev.interfaces);
  EXPECT_EQ(std::vector<IpConfig>(m.ips.begin(), m.ips.begin() + 3), prev.ips);
  EXPECT_EQ(std::vector<Route>(m.routes.begin(), m.routes.begin() + 2), prev.routes);
  EXPECT_EQ(m.dns, prev.dns);
  EXPECT_EQ(m.interfaces.size(), 5u);
  EXPECT_EQ(m.ips.size(), 5u);
  EXPECT_EQ(m.ips[3].interface, 4);  // 2 + two previous interfaces
  EXPECT_EQ(m.routes.size(), 4u);
}

TEST(PrevResultMerge, EmptyPrevLeavesOwnUnchanged) {
  EXPECT_EQ(merge_into_prev_result(Result{}, own()), own());
  Result with_dns = own();
  with_dns.dns = {{"10.126.0.53"}, "", {}, {}};
  EXPECT_EQ(merge_into_prev_result(Result{}, with_dns), with_dns);
}

TEST(PrevResultMerge, OwnIpWithoutInterfaceStaysWithout) {
  Result o = own();
  o.ips[1].interface.reset();
  const Result m = merge_into_prev_result(foreign(), o);
  EXPECT_EQ(m.ips[1].interface, 3);
  EXPECT_EQ(m.ips[2].interface, std::nullopt);
}

TEST(PrevResultMerge, OwnDnsFieldsOverridePrevFieldByField) {
  Result o = own();
  o.dns.nameservers = {"10.126.0.53", "10.126.0.54"};
  o.dns.search = {"tether.example"};
  const Result m = merge_into_prev_result(foreign(), o);
  EXPECT_EQ(m.dns.nameservers, (std::vector<std::string>{"10.126.0.53", "10.126.0.54"}));
  EXPECT_EQ(m.dns.search, std::vector<std::string>{"tether.example"});
  EXPECT_EQ(m.dns.domain, "foreign.example");                     // tether left it empty: kept
  EXPECT_EQ(m.dns.options, std::vector<std::string>{"ndots:2"});  // idem
}

TEST(PrevResultMerge, ChainOfTwoKeepsEveryIndexPointingAtItsInterface) {
  const Result once = merge_into_prev_result(foreign(), own());
  Result second = own();
  second.interfaces[2].name = "eth1";
  second.ips = {{P("10.126.1.5/24"), A("10.126.1.1"), 2}};
  const Result m = merge_into_prev_result(once, second);
  ASSERT_EQ(m.interfaces.size(), 7u);
  ASSERT_EQ(m.ips.size(), 4u);
  EXPECT_EQ(m.interfaces[static_cast<std::size_t>(*m.ips[0].interface)].name, "dummy0");
  EXPECT_EQ(m.interfaces[static_cast<std::size_t>(*m.ips[1].interface)].name, "eth0");
  EXPECT_EQ(m.interfaces[static_cast<std::size_t>(*m.ips[3].interface)].name, "eth1");
  EXPECT_EQ(*m.ips[3].interface, 6);
}

// ---- the merged result printed (what the runtime receives) ----

TEST(PrevResultMerge, PrintedFromV030KeepsEveryEntryWithShiftedIndexes) {
  const Result m = merge_into_prev_result(foreign(), own());
  for (const Version& v : {kV030, kV031, kV040, kV100, kV110}) {
    const json j = result_to_json(m, v);
    ASSERT_EQ(j["interfaces"].size(), 4u) << v.to_string();
    EXPECT_EQ(j["interfaces"][0]["name"], "dummy0");
    EXPECT_EQ(j["interfaces"][3]["name"], "eth0");
    ASSERT_EQ(j["ips"].size(), 3u);
    EXPECT_EQ(j["ips"][0]["interface"], 0);
    EXPECT_EQ(j["ips"][1]["interface"], 3);
    EXPECT_EQ(j["ips"][2]["interface"], 3);
    EXPECT_EQ(j["routes"].size(), 3u);
    EXPECT_EQ(j["dns"]["nameservers"], json::array({"10.99.0.53"}));
    // What the next plugin in the list (or CHECK/DEL) parses back is the same result, up to the
    // fields the version cannot carry.
    const Result back = result_from_json(j, v);
    EXPECT_EQ(back.ips, m.ips) << v.to_string();
    EXPECT_EQ(back.routes.size(), m.routes.size());
  }
}

// 0.1.0/0.2.0 hold one IP per family: the first of each family in the merged list, i.e. the
// earlier plugin's where it has one (its result is passed on unchanged), else tether's. Every
// route of the family is listed under it.
TEST(PrevResultMerge, PrintedBeforeV030TakesFirstIpOfEachFamily) {
  const Result m = merge_into_prev_result(foreign(), own());
  for (const Version& v : {kV010, kV020}) {
    const json j = result_to_json(m, v);
    EXPECT_EQ(j["ip4"]["ip"], "10.99.0.5/24") << v.to_string();
    EXPECT_EQ(j["ip4"]["gateway"], "10.99.0.1");
    EXPECT_EQ(j["ip4"]["routes"].size(), 2u);
    EXPECT_EQ(j["ip6"]["ip"], "fd00:126::5/64");  // the earlier plugin has no IPv6: tether's
    EXPECT_EQ(j["ip6"]["routes"].size(), 1u);
    EXPECT_EQ(j["dns"]["nameservers"], json::array({"10.99.0.53"}));
    EXPECT_FALSE(j.contains("interfaces"));
  }
  // A legacy prevResult (no interfaces, IP without index) passes through the same way.
  const Result legacy_prev = result_from_json(json::parse(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.99.0.5/24"}})"),
                                              kV020);
  const Result m2 = merge_into_prev_result(legacy_prev, own());
  EXPECT_EQ(m2.ips[0].interface, std::nullopt);
  EXPECT_EQ(m2.ips[1].interface, 2);
  EXPECT_EQ(result_to_json(m2, kV020)["ip4"]["ip"], "10.99.0.5/24");
}

}  // namespace
}  // namespace tether::cni
