#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "lib/firewall/naming.hpp"

namespace tether::firewall {
namespace {

TEST(FirewallNaming, SharedChainNamesFitLibiptc) {
  for (const char* c : {kHostportsChain, kPostroutingChain}) {
    EXPECT_LE(std::strlen(c), kMaxChainName) << c;
    EXPECT_EQ(std::string(c).rfind("TETHER-", 0), 0u) << c;
  }
}

TEST(FirewallNaming, HashesAreStableHexAndSeparated) {
  const AttachmentKey k{"net1", "abc", "eth0"};
  EXPECT_EQ(attachment_hash(k), attachment_hash(AttachmentKey{"net1", "abc", "eth0"}));
  EXPECT_EQ(attachment_hash(k).size(), 16u);
  EXPECT_EQ(attachment_hash(k).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(attachment_hash(k), attachment_hash({"net1", "abc", "eth1"}));
  EXPECT_NE(attachment_hash({"a", "bc", "x"}), attachment_hash({"ab", "c", "x"}));  // field boundaries count
  EXPECT_NE(network_hash("net1"), network_hash("net2"));
  // Fixed value: the hash is part of the on-host format (rules written by an older tether must
  // still be found by DEL), so it must never change silently.
  EXPECT_EQ(network_hash("net1"), "7d8521668f371698");
  EXPECT_EQ(attachment_hash(k), "bd234af84758cd0c");
  EXPECT_EQ(attachment_hash({"", "", ""}).size(), 16u);
}

TEST(FirewallNaming, CommentNamesNetworkContainerAndIfname) {
  const AttachmentKey k{"mynet", "c0ffee", "eth0"};
  const std::string c = attachment_comment(k);
  EXPECT_EQ(c, "tether:" + network_hash("mynet") + ":" + attachment_hash(k) + " net=mynet id=c0ffee if=eth0");
  auto tag = parse_attachment_comment(c);
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->network_hash, network_hash("mynet"));
  EXPECT_EQ(tag->attachment_hash, attachment_hash(k));
  EXPECT_EQ(tag->readable, "net=mynet id=c0ffee if=eth0");
}

TEST(FirewallNaming, LongIdsAreTruncatedButIdentityIsKept) {
  const AttachmentKey k{std::string(200, 'n'), std::string(200, 'c'), "eth0"};
  const std::string c = attachment_comment(k);
  EXPECT_EQ(c.size(), 255u);
  auto tag = parse_attachment_comment(c);
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->attachment_hash, attachment_hash(k));
}

TEST(FirewallNaming, NetworkRuleComment) {
  const std::string c = network_rule_comment("mynet");
  EXPECT_EQ(c, "tether:" + network_hash("mynet") + ":network net=mynet");
  ASSERT_TRUE(parse_network_rule_comment(c));
  EXPECT_EQ(*parse_network_rule_comment(c), network_hash("mynet"));
  EXPECT_FALSE(parse_attachment_comment(c));  // DEL/GC of attachments never touch it
  EXPECT_FALSE(parse_network_rule_comment(attachment_comment({"mynet", "c", "eth0"})));
  EXPECT_FALSE(parse_network_rule_comment(shared_comment("hairpin")));
}

TEST(FirewallNaming, RejectsForeignAndSharedComments) {
  EXPECT_FALSE(parse_attachment_comment("name: \"net\" id: \"abc\""));
  EXPECT_FALSE(parse_attachment_comment(shared_comment("hostports")));
  EXPECT_FALSE(parse_attachment_comment("tether:0123456789abcdeX:0123456789abcdef"));
  EXPECT_FALSE(parse_attachment_comment("tether:0123456789abcdef:0123456789abcdefX"));
  EXPECT_TRUE(parse_attachment_comment("tether:0123456789abcdef:0123456789abcdef"));
}

}  // namespace
}  // namespace tether::firewall
