// lib/netns + lib/netlink + lib/sys/sysctl against a real kernel, inside throwaway namespaces.
// Oracle: `ip -j` run in the same netns.
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "lib/netlink/addr.hpp"
#include "lib/netlink/bridge_port.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/netlink/route.hpp"
#include "lib/netns/netns.hpp"
#include "lib/sys/sysctl.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using netlink::RtnlSocket;

json ip_json(TestNetns& ns, const std::string& args) {
  std::string out;
  int rc = ns.exec("ip -j " + args, &out);
  EXPECT_EQ(rc, 0) << args << ": " << out;
  return json::parse(out.empty() ? "[]" : out);
}

ino_t current_netns_inode() {
  struct stat st {};
  ::stat("/proc/thread-self/ns/net", &st);
  return st.st_ino;
}

ino_t path_inode(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_ino;
}

net::IpPrefix pfx(const char* s) { return *net::IpPrefix::parse(s); }

class NetlinkTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    host_ns_.emplace(netns::Netns::open(host().path()));
    host_sk_.emplace(RtnlSocket::open_in(*host_ns_));
  }
  void TearDown() override {
    host_sk_.reset();
    host_ns_.reset();
    NetnsTest::TearDown();
  }
  RtnlSocket& hs() { return *host_sk_; }
  std::optional<netns::Netns> host_ns_;
  std::optional<RtnlSocket> host_sk_;
};

TEST(NetnsOpen, RejectsNonNamespaces) {
  std::string file = "/tmp/tether-netns-probe-" + std::to_string(::getpid());
  std::ofstream(file) << "x";
  for (const std::string& p : {file, std::string("/tmp")}) {
    try {
      netns::Netns::open(p, "CNI_NETNS");
      FAIL() << p << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 4);
      EXPECT_THAT(e.what(), HasSubstr("CNI_NETNS"));
      EXPECT_THAT(e.what(), HasSubstr(p));
    }
  }
  ::unlink(file.c_str());
  EXPECT_FALSE(netns::Netns::open_if_exists("/var/run/netns/tether-no-such-ns", "CNI_NETNS"));
  try {
    netns::Netns::open("/var/run/netns/tether-no-such-ns", "CNI_NETNS");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 4);
    EXPECT_THAT(e.what(), HasSubstr("tether-no-such-ns"));
  }
}

TEST_F(NetlinkTest, GuardSwitchesAndRestores) {
  const ino_t before = current_netns_inode();
  {
    netns::NetnsGuard g(*host_ns_);
    EXPECT_EQ(current_netns_inode(), path_inode(host().path()));
    EXPECT_NE(current_netns_inode(), before);
  }
  EXPECT_EQ(current_netns_inode(), before);
}

TEST_F(NetlinkTest, SocketLivesInItsNetns) {
  // A bridge created through the host socket appears in the fake host only.
  auto br = netlink::ensure_bridge(hs(), {"ttbr-sock", std::nullopt, false});
  EXPECT_TRUE(br.created);
  EXPECT_EQ(ip_json(host(), "link show ttbr-sock").size(), 1u);
  std::string out;
  shell("ip link show ttbr-sock", &out);
  EXPECT_THAT(out, HasSubstr("does not exist"));
}

TEST_F(NetlinkTest, EnsureBridgeCreatesUpPinnedAndAdopts) {
  auto br = netlink::ensure_bridge(hs(), {"ttbr0", 1400u, false});
  ASSERT_TRUE(br.created);
  EXPECT_EQ(br.link.kind, "bridge");
  EXPECT_TRUE(br.link.up);
  EXPECT_EQ(br.link.mtu, 1400u);
  const std::string mac = br.link.mac;
  // A port with a lower MAC would become the bridge's MAC unless the MAC is pinned.
  ASSERT_EQ(host().exec("ip link add ttp0 address 00:00:00:00:00:01 type veth peer name ttp1 && "
                        "ip link set ttp0 mtu 1400 master ttbr0 up && ip link set ttp1 up"),
            0);
  json l = ip_json(host(), "link show ttbr0");
  EXPECT_EQ(l[0]["address"], mac);
  auto again = netlink::ensure_bridge(hs(), {"ttbr0", std::nullopt, true});
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.link.index, br.link.index);
  EXPECT_THAT(ip_json(host(), "link show ttbr0")[0]["flags"].dump(), HasSubstr("PROMISC"));
}

TEST_F(NetlinkTest, EnsureBridgeRefusesNonBridge) {
  ASSERT_EQ(host().exec("ip link add ttnb type veth peer name ttnb1"), 0);
  try {
    netlink::ensure_bridge(hs(), {"ttnb", std::nullopt, false});
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ttnb"));
    EXPECT_THAT(e.what(), HasSubstr("not a bridge"));
  }
}

TEST_F(NetlinkTest, EnsureBridgeConcurrentCreatorsAgree) {
  constexpr int kThreads = 8;
  std::atomic<int> created{0}, failed{0};
  std::vector<int> index(kThreads);
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; ++i)
    ts.emplace_back([&, i] {
      try {
        auto sk = RtnlSocket::open_in(*host_ns_);
        auto br = netlink::ensure_bridge(sk, {"ttrace", std::nullopt, false});
        created += br.created;
        index[static_cast<std::size_t>(i)] = br.link.index;
      } catch (...) {
        ++failed;
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(created.load(), 1);
  for (int i : index) EXPECT_EQ(i, index[0]);
}

TEST_F(NetlinkTest, VethOneRequestAndClashes) {
  TestNetns& ctr = add_container();
  auto ctr_ns = netns::Netns::open(ctr.path());
  auto cs = RtnlSocket::open_in(ctr_ns);
  auto br = netlink::ensure_bridge(hs(), {"ttbrv", std::nullopt, false});
  netlink::VethSpec spec;
  spec.container_ifname = "eth0";
  spec.container_netns_fd = ctr_ns.fd();
  spec.master = br.link.index;
  spec.mtu = 1300;
  spec.container_mac = net::parse_mac("0a:58:0a:00:00:07");
  auto pair = netlink::create_veth(hs(), cs, spec);
  EXPECT_THAT(pair.host.name, ::testing::MatchesRegex("veth[0-9a-f]{8}"));
  EXPECT_EQ(pair.host.master, br.link.index);
  EXPECT_EQ(pair.container.peer_index, pair.host.index);

  json h = ip_json(host(), "-d link show " + pair.host.name);
  EXPECT_EQ(h[0]["master"], "ttbrv");
  EXPECT_EQ(h[0]["mtu"], 1300);
  EXPECT_THAT(h[0]["flags"].dump(), ::testing::Not(HasSubstr("\"UP\""))) << "enslaved while down";
  json c = ip_json(ctr, "link show eth0");
  EXPECT_EQ(c[0]["address"], "0a:58:0a:00:00:07");
  EXPECT_EQ(c[0]["mtu"], 1300);
  EXPECT_THAT(c[0]["flags"].dump(), ::testing::Not(HasSubstr("\"UP\"")));

  // Same ifname again: the container end clashes → error naming it, nothing new on the host.
  try {
    netlink::create_veth(hs(), cs, spec);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("eth0"));
    EXPECT_THAT(e.what(), HasSubstr("already exists"));
  }
  int ports = 0;
  for (const auto& l : netlink::list_links(hs())) ports += l.master == br.link.index;
  EXPECT_EQ(ports, 1);

  EXPECT_TRUE(netlink::delete_link(cs, "eth0"));
  EXPECT_FALSE(netlink::find_link(hs(), pair.host.name)) << "deleting one end removes both";
  EXPECT_FALSE(netlink::delete_link(cs, "eth0"));
  EXPECT_FALSE(netlink::delete_link(hs(), pair.host.index));
}

TEST_F(NetlinkTest, LinkChangesAndRawErrno) {
  auto br = netlink::ensure_bridge(hs(), {"ttbrc", std::nullopt, false});
  netlink::set_link_mtu(hs(), br.link.index, 1280);
  netlink::set_link_up(hs(), br.link.index, false);
  auto l = netlink::find_link(hs(), "ttbrc");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->mtu, 1280u);
  EXPECT_FALSE(l->up);
  try {
    netlink::set_link_mtu(hs(), br.link.index, 70000);
    FAIL();
  } catch (const netlink::NlError& e) {
    EXPECT_EQ(e.sys_errno(), EINVAL) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("70000"));
    EXPECT_THAT(e.what(), HasSubstr("mtu greater than device maximum")) << "kernel extack text";
  }
  EXPECT_FALSE(netlink::find_link(hs(), "ttnothere"));
  EXPECT_FALSE(netlink::find_link(hs(), "a-name-longer-than-15"));
}

TEST_F(NetlinkTest, AddressesWithBroadcastAndNodad) {
  auto br = netlink::ensure_bridge(hs(), {"ttbra", std::nullopt, false});
  const int idx = br.link.index;
  netlink::AddrOptions opt;
  opt.nodad = true;
  EXPECT_TRUE(netlink::add_address(hs(), idx, pfx("10.99.0.1/24"), opt));
  EXPECT_TRUE(netlink::add_address(hs(), idx, pfx("fd00:99::1/64"), opt));
  json a = ip_json(host(), "addr show dev ttbra");
  std::string dump = a.dump();
  EXPECT_THAT(dump, HasSubstr("\"broadcast\":\"10.99.0.255\""));
  EXPECT_THAT(dump, HasSubstr("\"nodad\":true"));
  auto list = netlink::list_addresses(hs(), idx);
  auto has = [&](const char* p) {
    for (const auto& x : list)
      if (x.prefix == pfx(p)) return true;
    return false;
  };
  EXPECT_TRUE(has("10.99.0.1/24"));
  EXPECT_TRUE(has("fd00:99::1/64"));
  EXPECT_THROW(netlink::add_address(hs(), idx, pfx("10.99.0.1/24"), opt), netlink::NlError);
  EXPECT_FALSE(netlink::add_address(hs(), idx, pfx("10.99.0.1/24"), opt, true));
  EXPECT_TRUE(netlink::delete_address(hs(), idx, pfx("10.99.0.1/24")));
  EXPECT_FALSE(netlink::delete_address(hs(), idx, pfx("10.99.0.1/24")));
}

TEST_F(NetlinkTest, ListAddressesIsPerLink) {
  auto a = netlink::ensure_bridge(hs(), {"ttla", std::nullopt, false});
  auto b = netlink::ensure_bridge(hs(), {"ttlb", std::nullopt, false});
  ASSERT_TRUE(netlink::add_address(hs(), a.link.index, pfx("10.96.0.1/24")));
  ASSERT_TRUE(netlink::add_address(hs(), b.link.index, pfx("10.96.1.1/24")));
  ASSERT_TRUE(netlink::add_address(hs(), b.link.index, pfx("fd00:96::1/64")));
  auto la = netlink::list_addresses(hs(), a.link.index);
  ASSERT_EQ(la.size(), 1u);
  EXPECT_EQ(la[0].prefix, pfx("10.96.0.1/24"));
  auto lb = netlink::list_addresses(hs(), b.link.index);
  EXPECT_EQ(lb.size(), 2u);
  // The socket stays usable for everything else after the strict-check dump.
  EXPECT_TRUE(netlink::find_link(hs(), "ttla"));
  EXPECT_GE(netlink::list_links(hs()).size(), 3u);
  EXPECT_FALSE(netlink::list_routes(hs(), net::Family::V4).empty());
}

TEST_F(NetlinkTest, RoutesWithMetricsTableAndProtocol) {
  auto br = netlink::ensure_bridge(hs(), {"ttbrr", std::nullopt, false});
  const int idx = br.link.index;
  ASSERT_TRUE(netlink::add_address(hs(), idx, pfx("10.98.0.1/24")));
  netlink::RouteSpec r;
  r.dst = pfx("10.97.0.0/16");
  r.gw = net::IpAddress::parse("10.98.0.254");
  r.oif = idx;
  r.mtu = 1300;
  r.advmss = 1260;
  r.priority = 50;
  r.table = 100;
  EXPECT_TRUE(netlink::add_route(hs(), r));
  json rt = ip_json(host(), "-d route show table 100");
  ASSERT_EQ(rt.size(), 1u) << rt.dump();
  EXPECT_EQ(rt[0]["dst"], "10.97.0.0/16");
  EXPECT_EQ(rt[0]["gateway"], "10.98.0.254");
  EXPECT_EQ(rt[0]["protocol"], "boot");
  EXPECT_EQ(rt[0]["metric"], 50);
  EXPECT_THAT(rt[0]["metrics"].dump(), HasSubstr("1300"));
  EXPECT_THAT(rt[0]["metrics"].dump(), HasSubstr("1260"));
  auto routes = netlink::list_routes(hs(), net::Family::V4);
  bool found = false;
  for (const auto& x : routes)
    found = found || (x.dst == r.dst && x.table == 100 && x.gw == r.gw && x.mtu == 1300 && x.oif == idx);
  EXPECT_TRUE(found);
  EXPECT_THROW(netlink::add_route(hs(), r), netlink::NlError);
  EXPECT_FALSE(netlink::add_route(hs(), r, true));
  EXPECT_TRUE(netlink::delete_route(hs(), r));
  EXPECT_FALSE(netlink::delete_route(hs(), r));
  // Off-link gateway: ENETUNREACH, which libnl alone reports as "Unspecific failure".
  r.gw = net::IpAddress::parse("10.1.2.3");
  try {
    netlink::add_route(hs(), r);
    FAIL();
  } catch (const netlink::NlError& e) {
    EXPECT_EQ(e.sys_errno(), ENETUNREACH) << e.what();
  }
}

TEST_F(NetlinkTest, PortHairpinAndIsolation) {
  auto br = netlink::ensure_bridge(hs(), {"ttbrp", std::nullopt, false});
  ASSERT_EQ(host().exec("ip link add ttpp0 type veth peer name ttpp1 && ip link set ttpp0 master ttbrp"), 0);
  auto port = netlink::find_link(hs(), "ttpp0");
  ASSERT_TRUE(port);
  netlink::set_port_hairpin(hs(), port->index, true);
  netlink::set_port_isolated(hs(), port->index, true);
  json l = ip_json(host(), "-d link show ttpp0");
  json data = l[0]["linkinfo"]["info_slave_data"];
  EXPECT_EQ(data["hairpin"], true) << data.dump();
  EXPECT_EQ(data["isolated"], true) << data.dump();
  netlink::set_port_isolated(hs(), port->index, false);
  EXPECT_EQ(ip_json(host(), "-d link show ttpp0")[0]["linkinfo"]["info_slave_data"]["isolated"], false);
}

TEST_F(NetlinkTest, VlanFilteringOrClearError) {
  auto br = netlink::ensure_bridge(hs(), {"ttbrvl", std::nullopt, false});
  ASSERT_EQ(host().exec("ip link add ttvl0 type veth peer name ttvl1 && ip link set ttvl0 master ttbrvl"), 0);
  auto port = netlink::find_link(hs(), "ttvl0");
  try {
    netlink::enable_vlan_filtering(hs(), br.link.index, "ttbrvl");
  } catch (const netlink::NlError& e) {
    ASSERT_EQ(e.sys_errno(), EOPNOTSUPP) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("kernel lacks bridge VLAN filtering"));
    GTEST_SKIP() << "kernel without CONFIG_BRIDGE_VLAN_FILTERING";
  }
  netlink::set_port_vlans(hs(), port->index, {100, {{200, 210}}, false});
  std::string out;
  host().exec("bridge -j vlan show dev ttvl0", &out);
  EXPECT_THAT(out, HasSubstr("100"));
  EXPECT_THAT(out, HasSubstr("210"));
}

TEST_F(NetlinkTest, SysctlWritesFollowTheThreadsNetns) {
  auto br = netlink::ensure_bridge(hs(), {"ttbrs", std::nullopt, false});
  {
    netns::NetnsGuard g(*host_ns_);
    sys::write_sysctl("net/ipv4/conf/ttbrs/arp_notify", "1");
    EXPECT_EQ(sys::read_sysctl("net/ipv4/conf/ttbrs/arp_notify"), "1");
    EXPECT_FALSE(sys::read_sysctl("net/ipv4/conf/ttnothere/arp_notify"));
    EXPECT_FALSE(sys::write_sysctl_if_exists("net/ipv4/conf/ttnothere/arp_notify", "1"));
    EXPECT_THROW(sys::write_sysctl("net/ipv4/conf/ttnothere/arp_notify", "1"), Error);
  }
  std::string out;
  host().exec("cat /proc/sys/net/ipv4/conf/ttbrs/arp_notify", &out);
  EXPECT_EQ(out, "1\n");
  EXPECT_FALSE(sys::read_sysctl("net/ipv4/conf/ttbrs/arp_notify")) << "not in the test's own netns";
}

}  // namespace
}  // namespace tether::testing
