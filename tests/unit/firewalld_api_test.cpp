// lib/firewalld/api: the canonical source text handed to firewalld, and its error codes.
#include "lib/firewalld/api.hpp"

#include <gtest/gtest.h>

#include "lib/util/error.hpp"

namespace tether::firewalld {
namespace {

TEST(FirewalldApiTest, CanonicalSource) {
  EXPECT_EQ(canonical_source("10.88.0.0/24"), "10.88.0.0/24");
  EXPECT_EQ(canonical_source("0.0.0.0/0"), "0.0.0.0/0");
  EXPECT_EQ(canonical_source("10.88.0.5/32"), "10.88.0.5/32");
  EXPECT_EQ(canonical_source("fd00:88::/64"), "fd00:88::/64");
  EXPECT_EQ(canonical_source("fd00:0088:0000::/64"), "fd00:88::/64");
  EXPECT_EQ(canonical_source("FD00:88::/64"), "fd00:88::/64");
}

TEST(FirewalldApiTest, CanonicalSourceRefusesWhatIsNotASubnet) {
  for (const char* bad : {"10.88.0.1/24", "fd00:88::1/64", "10.88.0.0", "10.88.0.0/33", "10.88.0.0/024", "x", "",
                          "10.88.0.0/24 ", "ipset:foo"}) {
    try {
      canonical_source(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kInvalidConfig) << e.what();
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
    }
  }
  try {
    canonical_source("10.88.0.1/24");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("10.88.0.0/24"), std::string::npos) << e.what();  // names the subnet
  }
}

TEST(FirewalldApiTest, ErrorCode) {
  EXPECT_EQ(error_code("ZONE_ALREADY_SET: '10.88.0.0/24' already bound to 'trusted'"), "ZONE_ALREADY_SET");
  EXPECT_EQ(error_code("ZONE_CONFLICT: '10.88.0.0/24' already bound to a zone"), "ZONE_CONFLICT");
  EXPECT_EQ(error_code("INVALID_ZONE: nope"), "INVALID_ZONE");
  EXPECT_EQ(error_code("something went wrong: details"), "");
  EXPECT_EQ(error_code("NO_COLON"), "");
  EXPECT_EQ(error_code(": x"), "");
  EXPECT_EQ(error_code(""), "");
}

}  // namespace
}  // namespace tether::firewalld
