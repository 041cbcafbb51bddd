// Client::trust_source / untrust_source / is_trusted against a real firewalld (fixture/
// firewalld_sandbox.hpp), read back through the client, through firewall-cmd inside the sandbox
// and in the kernel: the nft ruleset of the sandbox's netns.
#include <string>

#include "fixture/firewalld_fixture.hpp"
#include "lib/firewalld/client.hpp"
#include "lib/util/error.hpp"

namespace tether::firewalld {
namespace {

using testing::firewall_cmd;
using testing::FirewalldTest;

class FirewalldClientTest : public FirewalldTest {
 protected:
  void SetUp() override {
    FirewalldTest::SetUp();
    if (IsSkipped()) return;
    client_ = Client::connect_if_running();
    ASSERT_TRUE(client_.has_value()) << sandbox().logs();
  }
  Client& client() { return *client_; }
  std::string trusted_sources() { return firewall_cmd(sandbox(), "--zone=trusted --list-sources"); }
  // The sandbox netns's ruleset (where firewalld wrote it).
  std::string ruleset() {
    std::string out;
    EXPECT_EQ(sandbox().netns().exec("nft list ruleset", &out), 0) << out;
    return out;
  }
  std::optional<Client> client_;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(FirewalldClientTest, TrustAndUntrustIpv4) {
  ASSERT_FALSE(client().is_trusted("10.88.0.0/24"));
  ASSERT_FALSE(has(ruleset(), "10.88.0.0/24"));

  client().trust_source("10.88.0.0/24");
  EXPECT_TRUE(client().is_trusted("10.88.0.0/24"));
  EXPECT_EQ(client().zone_of_source("10.88.0.0/24"), "trusted");
  EXPECT_EQ(trusted_sources(), "10.88.0.0/24");
  EXPECT_EQ(firewall_cmd(sandbox(), "--get-zone-of-source=10.88.0.0/24"), "trusted");
  // Runtime only: the permanent configuration does not have it.
  EXPECT_EQ(firewall_cmd(sandbox(), "--permanent --zone=trusted --list-sources"), "");
  // In the kernel: forwarded traffic from the subnet goes to the trusted zone's chain.
  EXPECT_TRUE(has(ruleset(), "ip saddr 10.88.0.0/24 goto filter_FWD_trusted")) << ruleset();

  client().untrust_source("10.88.0.0/24");
  EXPECT_FALSE(client().is_trusted("10.88.0.0/24"));
  EXPECT_EQ(client().zone_of_source("10.88.0.0/24"), "");
  EXPECT_EQ(trusted_sources(), "");
  EXPECT_FALSE(has(ruleset(), "10.88.0.0/24")) << ruleset();
}

TEST_F(FirewalldClientTest, TrustAndUntrustIpv6InItsCanonicalSpelling) {
  // firewalld keys sources by their text: the client always spells a subnet the same way.
  client().trust_source("fd00:0088:0000::/64");
  EXPECT_EQ(trusted_sources(), "fd00:88::/64");
  EXPECT_TRUE(client().is_trusted("fd00:88::/64"));
  EXPECT_TRUE(client().is_trusted("fd00:0088::/64"));
  EXPECT_TRUE(has(ruleset(), "ip6 saddr fd00:88::/64 goto filter_FWD_trusted")) << ruleset();

  client().untrust_source("fd00:88::/64");
  EXPECT_FALSE(client().is_trusted("fd00:88::/64"));
  EXPECT_EQ(trusted_sources(), "");
  EXPECT_FALSE(has(ruleset(), "fd00:88::/64")) << ruleset();
}

TEST_F(FirewalldClientTest, BothFamiliesSideBySide) {
  client().trust_source("10.88.0.0/24");
  client().trust_source("fd00:88::/64");
  EXPECT_EQ(trusted_sources(), "10.88.0.0/24 fd00:88::/64");
  client().untrust_source("10.88.0.0/24");
  EXPECT_EQ(trusted_sources(), "fd00:88::/64");
  EXPECT_TRUE(client().is_trusted("fd00:88::/64"));
}

TEST_F(FirewalldClientTest, TwiceAddTwiceRemoveIsIdempotent) {
  client().trust_source("10.89.0.0/16");
  client().trust_source("10.89.0.0/16");
  EXPECT_EQ(trusted_sources(), "10.89.0.0/16");
  client().untrust_source("10.89.0.0/16");
  client().untrust_source("10.89.0.0/16");
  EXPECT_EQ(trusted_sources(), "");
  EXPECT_FALSE(client().is_trusted("10.89.0.0/16"));
  // Untrusting what was never there is a no-op too.
  client().untrust_source("10.90.0.0/16");
  // The repeats were no-ops on our side: firewalld never had to refuse (and log) anything.
  const std::string logs = sandbox().logs();
  EXPECT_FALSE(has(logs, "ZONE_ALREADY_SET")) << logs;
  EXPECT_FALSE(has(logs, "UNKNOWN_SOURCE")) << logs;
}

TEST_F(FirewalldClientTest, SourceBoundToAnotherZoneIsAnErrorAndStaysThere) {
  firewall_cmd(sandbox(), "--zone=public --add-source=10.77.0.0/24");
  try {
    client().trust_source("10.77.0.0/24");
    ADD_FAILURE() << "trust_source moved a source bound to another zone";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(has(what, "10.77.0.0/24")) << what;
    EXPECT_TRUE(has(what, "'public'")) << what;
  }
  EXPECT_FALSE(client().is_trusted("10.77.0.0/24"));
  EXPECT_EQ(firewall_cmd(sandbox(), "--get-zone-of-source=10.77.0.0/24"), "public");
  // untrust_source does not undo someone else's binding either.
  client().untrust_source("10.77.0.0/24");
  EXPECT_EQ(firewall_cmd(sandbox(), "--get-zone-of-source=10.77.0.0/24"), "public");
  EXPECT_EQ(trusted_sources(), "");
}

TEST_F(FirewalldClientTest, InvalidSubnetsAreRefusedBeforeFirewalldSeesThem) {
  for (const char* bad : {"10.88.0.1/24", "fd00:88::1/64", "10.88.0.0", "not-a-cidr", "10.88.0.0/33", ""}) {
    try {
      client().trust_source(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kInvalidConfig) << e.what();
      EXPECT_TRUE(has(e.what(), std::string("'") + bad + "'")) << e.what();
    }
  }
  EXPECT_THROW(client().is_trusted("10.88.0.1/24"), Error);
  EXPECT_THROW(client().untrust_source("10.88.0.1/24"), Error);
  EXPECT_EQ(trusted_sources(), "");
}

TEST_F(FirewalldClientTest, ReloadDropsRuntimeSources) {
  // firewalld's own behaviour, which is why watch_reloads exists: a reload rebuilds the runtime
  // configuration from the permanent one, and our sources are runtime only.
  client().trust_source("10.88.0.0/24");
  client().trust_source("fd00:88::/64");
  ASSERT_EQ(trusted_sources(), "10.88.0.0/24 fd00:88::/64");
  EXPECT_EQ(firewall_cmd(sandbox(), "--reload"), "success");
  EXPECT_EQ(trusted_sources(), "");
  EXPECT_FALSE(client().is_trusted("10.88.0.0/24"));
  EXPECT_FALSE(client().is_trusted("fd00:88::/64"));
  EXPECT_FALSE(has(ruleset(), "10.88.0.0/24")) << ruleset();
  // The same connection keeps working after the reload.
  client().trust_source("10.88.0.0/24");
  EXPECT_EQ(trusted_sources(), "10.88.0.0/24");
}

}  // namespace
}  // namespace tether::firewalld
