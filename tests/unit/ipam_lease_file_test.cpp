// host-local's lease file content and names: what counts as an owner, what is garbage.
#include <gtest/gtest.h>

#include "ipam/lease_file.hpp"

namespace tether::ipam {
namespace {

TEST(IpamLeaseFile, ContentRoundTrips) {
  EXPECT_EQ(lease_content({"abc", "eth0"}), "abc\r\neth0");
  EXPECT_EQ(lease_content({"abc", ""}), "abc");
  EXPECT_EQ(parse_lease_content("abc\r\neth0"), (Owner{"abc", "eth0"}));
  EXPECT_EQ(parse_lease_content("abc"), (Owner{"abc", ""}));  // legacy: ID only
}

TEST(IpamLeaseFile, SurroundingWhitespaceIsIgnoredLikeHostLocal) {
  EXPECT_EQ(parse_lease_content("  abc\r\neth0\n"), (Owner{"abc", "eth0"}));
  EXPECT_EQ(parse_lease_content("abc\n"), (Owner{"abc", ""}));
}

TEST(IpamLeaseFile, AnythingMalformedBelongsToNobody) {
  EXPECT_FALSE(parse_lease_content(""));
  EXPECT_FALSE(parse_lease_content("\r\n"));
  EXPECT_FALSE(parse_lease_content(std::string("\0\0\0\0", 4)));
  EXPECT_FALSE(parse_lease_content("ab c\r\neth0"));                // space in the ID
  EXPECT_FALSE(parse_lease_content("abc\neth0"));                   // LF only: not host-local's format
  EXPECT_FALSE(parse_lease_content("abc\r\neth0\r\nextra"));        // third field
  EXPECT_FALSE(parse_lease_content("abc\r\nname-longer-than-15"));  // not an ifname
  EXPECT_FALSE(parse_lease_content("abc\r\neth/0"));
  EXPECT_FALSE(parse_lease_content("-abc\r\neth0"));  // IDs start alphanumeric
}

TEST(IpamLeaseFile, OnlyCanonicalAddressesAreLeaseNames) {
  EXPECT_EQ(parse_lease_name("10.1.0.2")->to_string(), "10.1.0.2");
  EXPECT_EQ(parse_lease_name("fd00::1:0:0:ffff:fffe")->to_string(), "fd00::1:0:0:ffff:fffe");
  EXPECT_FALSE(parse_lease_name("fd00:0:0:1::2:0:0"));  // not how Go/inet_ntop spell it
  EXPECT_FALSE(parse_lease_name("FD00::1"));
  EXPECT_FALSE(parse_lease_name("last_reserved_ip.0"));
  EXPECT_FALSE(parse_lease_name("lock"));
  EXPECT_FALSE(parse_lease_name(".tether-index"));
}

}  // namespace
}  // namespace tether::ipam
