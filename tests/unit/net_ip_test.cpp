#include <gtest/gtest.h>

#include "lib/net/ip.hpp"

namespace tether::net {
namespace {

IpAddress addr(const char* s) {
  auto a = IpAddress::parse(s);
  EXPECT_TRUE(a.has_value()) << s;
  return a.value_or(IpAddress{});
}
IpPrefix pfx(const char* s) {
  auto p = IpPrefix::parse(s);
  EXPECT_TRUE(p.has_value()) << s;
  return p.value_or(IpPrefix{});
}

TEST(NetIpAddress, ParsesAndFormatsCanonically) {
  struct Case {
    const char* in;
    const char* out;
    Family fam;
  };
  for (const Case& c : {Case{"10.0.0.1", "10.0.0.1", Family::V4}, Case{"0.0.0.0", "0.0.0.0", Family::V4},
                        Case{"255.255.255.255", "255.255.255.255", Family::V4}, Case{"fd00::1", "fd00::1", Family::V6},
                        Case{"FD00:0:0:0:0:0:0:1", "fd00::1", Family::V6}, Case{"::", "::", Family::V6},
                        Case{"::ffff:10.1.2.3", "::ffff:10.1.2.3", Family::V6}}) {
    auto a = IpAddress::parse(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_EQ(a->to_string(), c.out);
    EXPECT_EQ(a->family(), c.fam);
    EXPECT_EQ(a->size(), c.fam == Family::V4 ? 4u : 16u);
  }
}

TEST(NetIpAddress, RejectsMalformedText) {
  for (const char* bad :
       {"", "10.0.0", "10.0.0.1.2", "10.0.0.256", "010.0.0.1", "10.0.0.01", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1/24",
        "1.2.3.4x", "fd00:::1", "fd00::1%eth0", "fd00::g", "12345::1", "abc", "-1.0.0.0", "0x1.0.0.0"}) {
    EXPECT_FALSE(IpAddress::parse(bad)) << "'" << bad << "'";
  }
  EXPECT_FALSE(IpAddress::parse(std::string_view("10.0.0.1\0junk", 13)));
  EXPECT_FALSE(IpAddress::parse(std::string(100, '1')));
}

TEST(NetIpAddress, V4HostOrderRoundTrip) {
  const IpAddress a = IpAddress::v4(0x0a000105u);
  EXPECT_EQ(a.to_string(), "10.0.1.5");
  EXPECT_EQ(a.v4_host_order(), 0x0a000105u);
  EXPECT_EQ(addr("192.168.1.2").v4_host_order(), 0xc0a80102u);
  const std::uint8_t raw[4] = {172, 16, 0, 9};
  EXPECT_EQ(IpAddress::from_bytes(Family::V4, raw).to_string(), "172.16.0.9");
}

TEST(NetIpAddress, NextAndPrevCarryAndWrap) {
  EXPECT_EQ(addr("10.0.0.255").next().to_string(), "10.0.1.0");
  EXPECT_EQ(addr("10.0.1.0").prev().to_string(), "10.0.0.255");
  EXPECT_EQ(addr("255.255.255.255").next().to_string(), "0.0.0.0");
  EXPECT_EQ(addr("0.0.0.0").prev().to_string(), "255.255.255.255");
  EXPECT_EQ(addr("fd00::ffff").next().to_string(), "fd00::1:0");
  EXPECT_EQ(addr("fd00::1:0").prev().to_string(), "fd00::ffff");
  EXPECT_EQ(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").next().to_string(), "::");
  EXPECT_TRUE(addr("0.0.0.0").is_zero());
  EXPECT_TRUE(addr("::").is_zero());
  EXPECT_FALSE(addr("::1").is_zero());
}

TEST(NetIpAddress, OrdersByFamilyThenBytes) {
  EXPECT_LT(addr("10.0.0.1"), addr("10.0.0.2"));
  EXPECT_LT(addr("9.255.255.255"), addr("10.0.0.0"));
  EXPECT_LT(addr("255.255.255.255"), addr("::"));  // V4 sorts before V6
  EXPECT_EQ(addr("fd00::1"), addr("fd00:0::1"));
  EXPECT_NE(addr("10.0.0.1"), addr("::ffff:10.0.0.1"));
}

TEST(NetIpPrefix, ParsesStrictly) {
  const IpPrefix p = pfx("10.0.0.5/24");
  EXPECT_EQ(p.address().to_string(), "10.0.0.5");
  EXPECT_EQ(p.length(), 24);
  EXPECT_EQ(p.to_string(), "10.0.0.5/24");
  EXPECT_EQ(pfx("0.0.0.0/0").length(), 0);
  EXPECT_EQ(pfx("fd00::/8").to_string(), "fd00::/8");
  EXPECT_EQ(pfx("::1/128").length(), 128);
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/024", "10.0.0.0/+8", "10.0.0.0/-1",
                          "10.0.0.0/8/8", "10.0.0.0/ 8", "fd00::/129", "fd00::/1000", "/24", "10.0.0.0/2x"}) {
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
  }
}

TEST(NetIpPrefix, BareAddressBecomesHostPrefix) {
  EXPECT_EQ(IpPrefix::parse_address_or_prefix("10.1.2.3")->to_string(), "10.1.2.3/32");
  EXPECT_EQ(IpPrefix::parse_address_or_prefix("fd00::5")->to_string(), "fd00::5/128");
  EXPECT_EQ(IpPrefix::parse_address_or_prefix("10.1.2.3/16")->to_string(), "10.1.2.3/16");
  EXPECT_FALSE(IpPrefix::parse_address_or_prefix("10.1.2.3/40"));
  EXPECT_FALSE(IpPrefix::parse_address_or_prefix("nope"));
}

TEST(NetIpPrefix, NetworkFirstLastNetmask) {
  struct Case {
    const char* in;
    const char* network;
    const char* last;
    const char* mask;
  };
  for (const Case& c :
       {Case{"10.0.0.5/24", "10.0.0.0/24", "10.0.0.255", "255.255.255.0"},
        Case{"10.1.2.3/19", "10.1.0.0/19", "10.1.31.255", "255.255.224.0"},
        Case{"10.1.2.3/32", "10.1.2.3/32", "10.1.2.3", "255.255.255.255"},
        Case{"10.1.2.3/0", "0.0.0.0/0", "255.255.255.255", "0.0.0.0"},
        Case{"fd00:1:2::9/64", "fd00:1:2::/64", "fd00:1:2:0:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff::"},
        Case{"fd00::1/127", "fd00::/127", "fd00::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"}}) {
    const IpPrefix p = pfx(c.in);
    EXPECT_EQ(p.network().to_string(), c.network) << c.in;
    EXPECT_EQ(p.first().to_string(), p.network().address().to_string()) << c.in;
    EXPECT_EQ(p.last().to_string(), c.last) << c.in;
    EXPECT_EQ(p.netmask().to_string(), c.mask) << c.in;
  }
  EXPECT_TRUE(pfx("10.0.0.0/24").host_bits_zero());
  EXPECT_FALSE(pfx("10.0.0.1/24").host_bits_zero());
}

TEST(NetIpPrefix, ContainsAndOverlaps) {
  const IpPrefix net = pfx("10.0.0.0/24");
  EXPECT_TRUE(net.contains(addr("10.0.0.0")));
  EXPECT_TRUE(net.contains(addr("10.0.0.255")));
  EXPECT_FALSE(net.contains(addr("10.0.1.0")));
  EXPECT_FALSE(net.contains(addr("::ffff:10.0.0.1")));          // other family
  EXPECT_TRUE(pfx("10.0.0.77/24").contains(addr("10.0.0.1")));  // host bits of the prefix are ignored
  EXPECT_TRUE(pfx("0.0.0.0/0").contains(addr("1.2.3.4")));
  EXPECT_TRUE(pfx("fd00::/8").contains(addr("fdff::1")));
  EXPECT_FALSE(pfx("fd00::/8").contains(addr("fe00::1")));

  EXPECT_TRUE(net.overlaps(pfx("10.0.0.128/25")));
  EXPECT_TRUE(pfx("10.0.0.128/25").overlaps(net));
  EXPECT_TRUE(net.overlaps(pfx("10.0.0.0/8")));
  EXPECT_FALSE(net.overlaps(pfx("10.0.1.0/24")));
  EXPECT_FALSE(net.overlaps(pfx("fd00::/8")));
}

}  // namespace
}  // namespace tether::net
