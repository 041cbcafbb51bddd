#include <gtest/gtest.h>

#include <string>

#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"

namespace tether::cni {
namespace {

// Runs fn, expects code 7 with `fragment` in the message.
template <typename Fn>
void expect_config_error(Fn fn, const std::string& fragment) {
  try {
    fn();
    FAIL() << "expected an error containing " << fragment;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), kInvalidConfig) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

const json kObj = json::parse(R"({
  "s": "text", "b": true, "i": 1500, "neg": -3, "f": 1500.0, "half": 1.5, "big": 18446744073709551615,
  "list": ["a", "b"], "mixed": ["a", 1], "o": {"k": 1}, "arr": [1], "nul": null
})");

TEST(CniJsonField, KeyPath) {
  EXPECT_EQ(key_path("", "mtu"), "mtu");
  EXPECT_EQ(key_path("ipam", "ranges"), "ipam.ranges");
  EXPECT_EQ(key_path("ipam.ranges[0][1]", "subnet"), "ipam.ranges[0][1].subnet");
}

TEST(CniJsonField, ReadsPresentValues) {
  EXPECT_EQ(get_string(kObj, "", "s"), "text");
  EXPECT_EQ(get_bool(kObj, "", "b"), true);
  EXPECT_EQ(get_int(kObj, "", "i", 68, 65535), 1500);
  EXPECT_EQ(get_int(kObj, "", "neg", -10, 10), -3);
  EXPECT_EQ(get_int(kObj, "", "f", 0, 2000), 1500);  // JSON's 1500.0 is a whole number
  EXPECT_EQ(get_string_list(kObj, "", "list"), (std::vector<std::string>{"a", "b"}));
  ASSERT_NE(get_object(kObj, "", "o"), nullptr);
  EXPECT_EQ((*get_object(kObj, "", "o"))["k"], 1);
  ASSERT_NE(get_array(kObj, "", "arr"), nullptr);
}

TEST(CniJsonField, AbsentAndNullAreNullopt) {
  for (const char* key : {"missing", "nul"}) {
    EXPECT_FALSE(get_string(kObj, "", key));
    EXPECT_FALSE(get_bool(kObj, "", key));
    EXPECT_FALSE(get_int(kObj, "", key, 0, 1));
    EXPECT_FALSE(get_string_list(kObj, "", key));
    EXPECT_EQ(get_object(kObj, "", key), nullptr);
    EXPECT_EQ(get_array(kObj, "", key), nullptr);
  }
}

TEST(CniJsonField, TypeErrorsNameTheKeyPathAndValue) {
  expect_config_error([] { get_string(kObj, "ipam", "i"); }, "'ipam.i': expected a string, got an integer 1500");
  expect_config_error([] { get_bool(kObj, "", "s"); }, "'s': expected a boolean, got a string \"text\"");
  expect_config_error([] { get_int(kObj, "x", "s", 0, 1); }, "'x.s': expected an integer");
  expect_config_error([] { get_string_list(kObj, "", "s"); }, "'s': expected a list of strings");
  expect_config_error([] { get_string_list(kObj, "p", "mixed"); }, "'p.mixed[1]': expected a string, got an integer 1");
  expect_config_error([] { get_object(kObj, "", "arr"); }, "'arr': expected an object");
  expect_config_error([] { get_array(kObj, "", "o"); }, "'o': expected a list");
}

TEST(CniJsonField, IntegerRangeAndWholeness) {
  expect_config_error([] { get_int(kObj, "", "i", 68, 1000); }, "'i': value 1500: must be between 68 and 1000");
  expect_config_error([] { get_int(kObj, "", "neg", 0, 10); }, "must be between 0 and 10");
  expect_config_error([] { get_int(kObj, "", "half", 0, 10); }, "'half': value 1.5: expected a whole number");
  expect_config_error([] { get_int(kObj, "", "big", 0, 65535); }, "'big'");
}

TEST(CniJsonField, IpFieldsNameKeyAndValue) {
  EXPECT_EQ(parse_ip_field("10.0.0.1", "k").to_string(), "10.0.0.1");
  EXPECT_EQ(parse_prefix_field("10.0.0.0/8", "k").to_string(), "10.0.0.0/8");
  expect_config_error([] { parse_ip_field("10.0.0.256", "ipam.gateway"); }, "'ipam.gateway': value '10.0.0.256'");
  expect_config_error([] { parse_prefix_field("10.0.0.0", "ipam.subnet"); }, "'ipam.subnet': value '10.0.0.0'");
}

}  // namespace
}  // namespace tether::cni
