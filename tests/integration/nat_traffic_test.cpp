// Packets, not rule text: a fake host netns with a "container" and an "outside" netns, each joined
// to the host by a veth pair, and a firewall backend (libiptc or nftables: every test runs for
// both) installing a NatPlan in the host.
//
//   outside (10.88.0.2, fd88::2) ── tvo0 [host 10.88.0.1, fd88::1] tvc0 (10.77.0.1, fd77::1) ── container (10.77.0.2, fd77::2)
//
// The outside netns has no route to the container subnet, so any reply that reaches it proves the
// host translated the traffic. Sockets are created inside each netns (a socket stays in the netns
// it was created in) and then driven from this one thread.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "fixture/netns_fixture.hpp"
#include "fixture/traffic.hpp"
#include "lib/fw_iptables/iptables_firewall.hpp"
#include "lib/fw_nftables/nftables_firewall.hpp"
#include "lib/netns/netns.hpp"
#include "lib/sys/unique_fd.hpp"

namespace tether::firewall {
namespace {

using sys::UniqueFd;
using namespace testing::traffic;
using testing::NetnsTest;
using testing::TestNetns;

enum class Backend { Iptables, Nftables };

class NatTrafficTest : public NetnsTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    ::setenv("XTABLES_LOCKFILE", (temp_dir() + "/xtables.lock").c_str(), 1);
    ctr_ = &add_container("ctr");
    out_ = &add_container("out");
    // No DAD anywhere: until the link-local addresses finish DAD (~2 s) the fresh namespaces drop
    // forwarded IPv6 packets, which would make the first v6 exchange flaky.
    for (const TestNetns* ns : {&host(), ctr_, out_})
      sh(*ns, "sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0");
    sh(host(), "ip link add tvc0 type veth peer name eth0 netns " + ctr_->name() +
                   " && ip link add tvo0 type veth peer name eth0 netns " + out_->name() +
                   " && ip addr add 10.77.0.1/24 dev tvc0 && ip -6 addr add fd77::1/64 dev tvc0 nodad"
                   " && ip addr add 10.88.0.1/24 dev tvo0 && ip -6 addr add fd88::1/64 dev tvo0 nodad"
                   " && ip link set tvc0 up && ip link set tvo0 up"
                   " && sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
                   // what the plugin sets on its bridge for IPv4 port mappings (127.0.0.1 DNAT)
                   " net.ipv4.conf.tvc0.route_localnet=1");
    sh(*ctr_, "ip addr add 10.77.0.2/24 dev eth0 && ip -6 addr add fd77::2/64 dev eth0 nodad && ip link set eth0 up"
              " && ip route add default via 10.77.0.1 && ip -6 route add default via fd77::1");
    sh(*out_, "ip addr add 10.88.0.2/24 dev eth0 && ip -6 addr add fd88::2/64 dev eth0 nodad && ip link set eth0 up");
    fw_ = GetParam() == Backend::Iptables ? make_iptables_firewall() : make_nftables_firewall();
    plan_.key = {"trafficnet", "ctr-traffic", "eth0"};
    plan_.ip_masq = true;
    plan_.container_ips = {*net::IpPrefix::parse("10.77.0.2/24"), *net::IpPrefix::parse("fd77::2/64")};
    plan_.port_mappings = {{8080, 80, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, {}}};
  }
  void TearDown() override {
    ::unsetenv("XTABLES_LOCKFILE");
    NetnsTest::TearDown();
  }

  static void sh(const TestNetns& ns, const std::string& cmd) {
    std::string out;
    ASSERT_EQ(ns.exec(cmd, &out), 0) << cmd << "\n" << out;
  }
  template <class F>
  void in_host(F&& f) {
    netns::NetnsGuard guard(netns::Netns::open(host().path()));
    f();
  }

  TestNetns* ctr_ = nullptr;
  TestNetns* out_ = nullptr;
  std::unique_ptr<Firewall> fw_;
  NatPlan plan_;
};

TEST_P(NatTrafficTest, MasqueradeHidesTheContainerBehindTheHost) {
  in_host([&] { fw_->add(plan_); });  // with mappings: the network's masquerade rule
  EXPECT_EQ(tcp_exchange(*out_, 7000, *ctr_, "10.88.0.2", 7000), "10.88.0.1");
  EXPECT_EQ(tcp_exchange(*out_, 7000, *ctr_, "fd88::2", 7000), "fd88::1");
}

TEST_P(NatTrafficTest, MasqueradeWithoutMappingsUsesTheAttachmentsOwnRule) {
  plan_.port_mappings.clear();
  in_host([&] { fw_->add(plan_); });
  std::string save;
  if (GetParam() == Backend::Iptables) {
    host().exec("iptables-legacy-save -t nat", &save);
    ASSERT_NE(save.find("-A TETHER-POSTROUTING -s 10.77.0.2/32 ! -d 10.77.0.0/24"), std::string::npos) << save;
  } else {
    host().exec("nft list table ip tether", &save);  // masquerade its address, except within its subnet
    ASSERT_NE(save.find("elements = { 10.77.0.2 comment"), std::string::npos) << save;
    ASSERT_NE(save.find("elements = { 10.77.0.0/24 . 10.77.0.0/24 comment"), std::string::npos) << save;
  }
  EXPECT_EQ(tcp_exchange(*out_, 7000, *ctr_, "10.88.0.2", 7000), "10.88.0.1");
  EXPECT_EQ(tcp_exchange(*out_, 7000, *ctr_, "fd88::2", 7000), "fd88::1");
  in_host([&] { fw_->del(plan_.key); });
  sh(*out_, "ip route add 10.77.0.0/24 via 10.88.0.1");  // so an unmasqueraded reply finds its way
  EXPECT_EQ(tcp_exchange(*out_, 7000, *ctr_, "10.88.0.2", 7000), "10.77.0.2") << "DEL removed the masquerade";
}

TEST_P(NatTrafficTest, PublishedPortsReachTheContainer) {
  in_host([&] { fw_->add(plan_); });
  // From outside: DNAT keeps the client's address.
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "10.88.0.1", 8080), "10.88.0.2");
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "fd88::1", 8080), "fd88::2");
  {
    UniqueFd srv = server(*ctr_, AF_INET, SOCK_DGRAM, 53);
    UniqueFd cli = socket_in(*out_, AF_INET, SOCK_DGRAM);
    EXPECT_EQ(udp_exchange(srv.get(), cli.get(), "10.88.0.1", 5353), "10.88.0.2");
  }
  {
    UniqueFd srv = server(*ctr_, AF_INET6, SOCK_DGRAM, 53);
    UniqueFd cli = socket_in(*out_, AF_INET6, SOCK_DGRAM);
    EXPECT_EQ(udp_exchange(srv.get(), cli.get(), "fd88::1", 5353), "fd88::2");
  }
  // From the host itself: its own address, and 127.0.0.1 (route_localnet + loopback masquerade).
  EXPECT_EQ(tcp_exchange(*ctr_, 80, host(), "10.88.0.1", 8080), "10.88.0.1");
  EXPECT_EQ(tcp_exchange(*ctr_, 80, host(), "127.0.0.1", 8080), "10.77.0.1");
  EXPECT_EQ(tcp_exchange(*ctr_, 80, host(), "fd88::1", 8080), "fd88::1");
  // [::1]:8080 cannot work: the SYN is DNAT'ed and masqueraded fine, but the container's answer,
  // de-NAT'ed back to ::1, arrives on a non-loopback device and IPv6 refuses to route it
  // (Ip6InNoRoutes; there is no route_localnet for IPv6).
  // Hairpin: the container through its own published port, masqueraded to the host side.
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *ctr_, "10.88.0.1", 8080), "10.77.0.1");
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *ctr_, "fd88::1", 8080), "fd77::1");

  // After DEL the port is closed again.
  in_host([&] { fw_->del(plan_.key); });
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "10.88.0.1", 8080).rfind("error:", 0), 0u);
}

TEST_P(NatTrafficTest, NeighbourOnTheSameBridgeReachesAPublishedPort) {
  // Two containers on one bridge: A reaches B's published port through a host address. Without
  // the hairpin masquerade B would answer A directly (from its own address) and A would reject it.
  TestNetns& a = add_container("bra");
  TestNetns& b = add_container("brb");
  sh(host(), "ip link add tbr0 type bridge && ip addr add 10.66.0.1/24 dev tbr0 && ip link set tbr0 up"
             " && ip link add tva type veth peer name eth0 netns " +
                 a.name() + " && ip link add tvb type veth peer name eth0 netns " + b.name() +
                 " && ip link set tva master tbr0 up && ip link set tvb master tbr0 up");
  sh(a, "ip addr add 10.66.0.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.66.0.1");
  sh(b, "ip addr add 10.66.0.3/24 dev eth0 && ip link set eth0 up && ip route add default via 10.66.0.1");
  NatPlan pb;
  pb.key = {"bridgenet", "ctr-b", "eth0"};
  pb.container_ips = {*net::IpPrefix::parse("10.66.0.3/24")};
  pb.port_mappings = {{8090, 80, net::L4Proto::Tcp, {}}};
  in_host([&] { fw_->add(pb); });
  EXPECT_EQ(tcp_exchange(b, 80, a, "10.88.0.1", 8090), "10.66.0.1");
  EXPECT_EQ(tcp_exchange(b, 80, a, "10.66.0.1", 8090), "10.66.0.1");
  // Plain container-to-container traffic keeps its source.
  EXPECT_EQ(tcp_exchange(b, 80, a, "10.66.0.3", 80), "10.66.0.2");
}

TEST_P(NatTrafficTest, HostIpLimitsTheMappingToThatAddress) {
  sh(host(), "ip addr add 10.88.0.9/24 dev tvo0");
  plan_.port_mappings = {{8081, 80, net::L4Proto::Tcp, net::IpAddress::parse("10.88.0.9")}};
  in_host([&] { fw_->add(plan_); });
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "10.88.0.9", 8081), "10.88.0.2");
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "10.88.0.1", 8081).rfind("error:", 0), 0u);  // other address: closed
  EXPECT_EQ(tcp_exchange(*ctr_, 80, *out_, "fd88::1", 8081).rfind("error:", 0), 0u);    // a v4 hostIP is v4-only
}

TEST_P(NatTrafficTest, RemappedUdpPortTakesEffectForAnExistingFlow) {
  plan_.port_mappings = {{5353, 53, net::L4Proto::Udp, {}}};
  in_host([&] { fw_->add(plan_); });
  UniqueFd srv53 = server(*ctr_, AF_INET, SOCK_DGRAM, 53);
  UniqueFd srv54 = server(*ctr_, AF_INET, SOCK_DGRAM, 54);
  UniqueFd cli = socket_in(*out_, AF_INET, SOCK_DGRAM);  // one socket = one 5-tuple = one conntrack entry
  ASSERT_EQ(udp_exchange(srv53.get(), cli.get(), "10.88.0.1", 5353), "10.88.0.2");

  // Re-point the host port. Without the conntrack cleanup the live UDP entry would keep sending
  // this flow to :53 until it expires.
  plan_.port_mappings = {{5353, 54, net::L4Proto::Udp, {}}};
  in_host([&] { fw_->add(plan_); });
  EXPECT_EQ(udp_exchange(srv54.get(), cli.get(), "10.88.0.1", 5353), "10.88.0.2");
  EXPECT_FALSE(readable(srv53.get(), 100));
}

INSTANTIATE_TEST_SUITE_P(Backends, NatTrafficTest, ::testing::Values(Backend::Iptables, Backend::Nftables),
                         [](const ::testing::TestParamInfo<Backend>& i) {
                           return i.param == Backend::Iptables ? "iptables" : "nftables";
                         });

}  // namespace
}  // namespace tether::firewall
