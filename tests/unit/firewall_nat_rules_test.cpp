#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/firewall/naming.hpp"
#include "lib/fw_iptables/nat_rules.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {
namespace {

NatPlan plan_with(std::vector<const char*> ips, bool masq, std::vector<PortMapping> maps = {}) {
  NatPlan p;
  p.key = {"net1", "ctr1", "eth0"};
  p.ip_masq = masq;
  for (const char* ip : ips) p.container_ips.push_back(*net::IpPrefix::parse(ip));
  p.port_mappings = std::move(maps);
  return p;
}

std::vector<std::string> lines(const FamilyRules& fr) {
  std::vector<std::string> out;
  for (const auto& r : fr.rules) out.push_back(iptables::to_save_line(r.chain, r.spec));
  return out;
}

TEST(NatRules, EmptyPlanHasNoRules) {
  EXPECT_TRUE(nat_rules(plan_with({"10.0.0.2/24"}, false)).empty());
  EXPECT_TRUE(
      nat_rules(plan_with({}, true, {{8080, 80, net::L4Proto::Tcp, {}}})).empty());  // no address: nothing to do
}

TEST(NatRules, IpMasqV4) {
  const auto fams = nat_rules(plan_with({"10.0.0.2/24"}, true));
  ASSERT_EQ(fams.size(), 1u);
  const std::string c = "\"" + attachment_comment({"net1", "ctr1", "eth0"}) + "\"";
  EXPECT_EQ(lines(fams[0]), std::vector<std::string>{"-A TETHER-POSTROUTING -s 10.0.0.2/32 ! -d 10.0.0.0/24 -m comment "
                                                     "--comment " +
                                                     c + " -j MASQUERADE"});
  EXPECT_TRUE(fams[0].postrouting);
  EXPECT_FALSE(fams[0].hostports);
  EXPECT_TRUE(fams[0].network_rules.empty());  // no mapping: no hairpin mark
}

TEST(NatRules, IpMasqWithMappingsIsTheNetworksRule) {
  // v4 has a mapping: its DNAT identifies the attachment, the masquerade is per network (subnet).
  // v6 (hostIP is v4) has none: a masquerade rule of the attachment's own.
  const auto fams = nat_rules(plan_with({"10.0.0.2/24", "fd00::2/64"}, true,
                                        {{8080, 80, net::L4Proto::Tcp, net::IpAddress::parse("192.168.1.5")}}));
  ASSERT_EQ(fams.size(), 2u);
  const std::string net = " -m comment --comment \"tether:" + network_hash("net1") + ":network net=net1\"";
  ASSERT_EQ(fams[0].rules.size(), 1u);
  EXPECT_EQ(fams[0].rules[0].chain, "TETHER-HOSTPORTS");
  std::vector<std::string> network;
  for (const auto& r : fams[0].network_rules) network.push_back(iptables::to_save_line(r.chain, r.spec));
  EXPECT_EQ(network,
            (std::vector<std::string>{"-A TETHER-HOSTPORTS -s 10.0.0.0/24" + net + " -j MARK --set-xmark 0x2000/0x2000",
                                      "-A TETHER-POSTROUTING -s 10.0.0.0/24 ! -d 10.0.0.0/24" + net +
                                          " -j MASQUERADE"}));
  EXPECT_EQ(lines(fams[1]),
            std::vector<std::string>{"-A TETHER-POSTROUTING -s fd00::2/128 ! -d fd00::/64 -m comment "
                                     "--comment \"" +
                                     attachment_comment({"net1", "ctr1", "eth0"}) + "\" -j MASQUERADE"});
  EXPECT_TRUE(fams[1].network_rules.empty());
}

TEST(NatRules, RouteLocalnetOnlyForIpv4HostPorts) {
  EXPECT_FALSE(plan_with({"10.0.0.2/24"}, true).needs_route_localnet());
  EXPECT_TRUE(plan_with({"10.0.0.2/24"}, false, {{8080, 80, net::L4Proto::Tcp, {}}}).needs_route_localnet());
  EXPECT_FALSE(plan_with({"fd00::2/64"}, false, {{8080, 80, net::L4Proto::Tcp, {}}}).needs_route_localnet());
  EXPECT_FALSE(plan_with({"10.0.0.2/24"}, false, {{8080, 80, net::L4Proto::Tcp, net::IpAddress::parse("fd00::1")}})
                   .needs_route_localnet());
}

TEST(NatRules, DualStackMappingsRespectHostIpFamily) {
  const auto fams = nat_rules(plan_with({"10.0.0.2/24", "fd00::2/64"}, false,
                                        {{8080, 80, net::L4Proto::Tcp, {}},
                                         {5353, 53, net::L4Proto::Udp, net::IpAddress::parse("192.168.1.5")},
                                         {9000, 9000, net::L4Proto::Sctp, {}}}));
  ASSERT_EQ(fams.size(), 2u);
  const std::string c = " -m comment --comment \"" + attachment_comment({"net1", "ctr1", "eth0"}) + "\"";
  EXPECT_EQ(lines(fams[0]),
            (std::vector<std::string>{"-A TETHER-HOSTPORTS -p tcp -m tcp --dport 8080" + c +
                                          " -j DNAT --to-destination 10.0.0.2:80",
                                      "-A TETHER-HOSTPORTS -d 192.168.1.5/32 -p udp -m udp --dport 5353" + c +
                                          " -j DNAT --to-destination 10.0.0.2:53",
                                      "-A TETHER-HOSTPORTS -p sctp -m sctp --dport 9000" + c +
                                          " -j DNAT --to-destination 10.0.0.2:9000"}));
  ASSERT_EQ(fams[0].network_rules.size(), 1u);
  EXPECT_EQ(iptables::to_save_line(fams[0].network_rules[0].chain, fams[0].network_rules[0].spec),
            "-A TETHER-HOSTPORTS -s 10.0.0.0/24 -m comment --comment \"tether:" + network_hash("net1") +
                ":network net=net1\" -j MARK --set-xmark 0x2000/0x2000");
  EXPECT_EQ(fams[0].udp_host_ports, std::vector<std::uint16_t>{5353});
  EXPECT_EQ(fams[1].family, net::Family::V6);
  EXPECT_EQ(lines(fams[1]), (std::vector<std::string>{"-A TETHER-HOSTPORTS -p tcp -m tcp --dport 8080" + c +
                                                          " -j DNAT --to-destination [fd00::2]:80",
                                                      "-A TETHER-HOSTPORTS -p sctp -m sctp --dport 9000" + c +
                                                          " -j DNAT --to-destination [fd00::2]:9000"}));
  ASSERT_EQ(fams[1].network_rules.size(), 1u);
  EXPECT_EQ(fams[1].network_rules[0].spec.src->prefix.to_string(), "fd00::/64");
  EXPECT_TRUE(fams[1].udp_host_ports.empty());  // the udp mapping is v4-only (hostIP)
}

TEST(NatRules, SharedSkeleton) {
  const auto jumps = hostports_jumps(net::Family::V4);
  ASSERT_EQ(jumps.size(), 2u);
  EXPECT_EQ(iptables::to_save_line(jumps[0].from, jumps[0].spec),
            "-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment \"tether:shared hostports\" -j "
            "TETHER-HOSTPORTS");
  EXPECT_EQ(jumps[1].from, "OUTPUT");
  const auto post = postrouting_jump(net::Family::V6);
  EXPECT_EQ(iptables::to_save_line(post.from, post.spec),
            "-A POSTROUTING -m comment --comment \"tether:shared postrouting\" -j TETHER-POSTROUTING");
  const auto shared = postrouting_shared_rules(net::Family::V4);
  ASSERT_EQ(shared.size(), 3u);
  EXPECT_EQ(iptables::to_save_line(kPostroutingChain, shared[0]),
            "-A TETHER-POSTROUTING -s 127.0.0.0/8 ! -o lo -m comment --comment \"tether:shared localhost\" -j "
            "MASQUERADE");
  EXPECT_EQ(iptables::to_save_line(kPostroutingChain, shared[1]),
            "-A TETHER-POSTROUTING ! -o lo -m mark --mark 0x2000/0x2000 -m comment --comment \"tether:shared hairpin\" "
            "-j MASQUERADE");
  EXPECT_EQ(iptables::to_save_line(kPostroutingChain, shared[2]),
            "-A TETHER-POSTROUTING -d 224.0.0.0/4 -m comment --comment \"tether:shared multicast\" -j RETURN");
  ASSERT_EQ(postrouting_shared_rules(net::Family::V6).size(), 2u);  // no ::1 rule: IPv6 cannot route it back
  EXPECT_EQ(iptables::to_save_line(kPostroutingChain, postrouting_shared_rules(net::Family::V6)[1]),
            "-A TETHER-POSTROUTING -d ff00::/8 -m comment --comment \"tether:shared multicast\" -j RETURN");
}

}  // namespace
}  // namespace tether::firewall
