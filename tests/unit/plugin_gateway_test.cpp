// complete_gateways: CNI's calcGateways (first host of the subnet when IPAM gave no gateway, a
// default route per family with isDefaultGateway unless IPAM already has one with a gateway).
#include <gtest/gtest.h>

#include "plugin/container_setup.hpp"

namespace tether::plugin {
namespace {

cni::IpConfig ip(const char* cidr, const char* gw = nullptr) {
  cni::IpConfig c;
  c.address = *net::IpPrefix::parse(cidr);
  if (gw) c.gateway = net::IpAddress::parse(gw);
  return c;
}

TEST(PluginGateway, NothingWithoutIsGateway) {
  cni::Result r;
  r.ips = {ip("10.1.0.5/24")};
  complete_gateways(r, BridgePlan{});
  EXPECT_FALSE(r.ips[0].gateway);
  EXPECT_TRUE(r.routes.empty());
}

TEST(PluginGateway, FirstHostWhenMissing) {
  BridgePlan p;
  p.is_gateway = true;
  cni::Result r;
  r.ips = {ip("10.1.0.5/24"), ip("fd00:1::5/64"), ip("10.2.0.9/24", "10.2.0.254")};
  complete_gateways(r, p);
  EXPECT_EQ(r.ips[0].gateway->to_string(), "10.1.0.1");
  EXPECT_EQ(r.ips[1].gateway->to_string(), "fd00:1::1");
  EXPECT_EQ(r.ips[2].gateway->to_string(), "10.2.0.254") << "IPAM's gateway kept";
  EXPECT_TRUE(r.routes.empty());
}

TEST(PluginGateway, DefaultRoutePerFamily) {
  BridgePlan p;
  p.is_gateway = p.is_default_gateway = true;
  cni::Result r;
  r.ips = {ip("10.1.0.5/24", "10.1.0.1"), ip("fd00:1::5/64", "fd00:1::1")};
  complete_gateways(r, p);
  ASSERT_EQ(r.routes.size(), 2u);
  EXPECT_EQ(r.routes[0].dst.to_string(), "0.0.0.0/0");
  EXPECT_EQ(r.routes[0].gw->to_string(), "10.1.0.1");
  EXPECT_EQ(r.routes[1].dst.to_string(), "::/0");
  EXPECT_EQ(r.routes[1].gw->to_string(), "fd00:1::1");
}

TEST(PluginGateway, IpamDefaultRouteWithGatewayWins) {
  BridgePlan p;
  p.is_gateway = p.is_default_gateway = true;
  cni::Result r;
  r.ips = {ip("10.1.0.5/24", "10.1.0.1")};
  cni::Route def;
  def.dst = *net::IpPrefix::parse("0.0.0.0/0");
  def.gw = net::IpAddress::parse("10.1.0.254");
  r.routes = {def};
  complete_gateways(r, p);
  ASSERT_EQ(r.routes.size(), 1u);
  EXPECT_EQ(r.routes[0].gw->to_string(), "10.1.0.254");
}

}  // namespace
}  // namespace tether::plugin
