// The firewalld sandbox itself (fixture/firewalld_sandbox.hpp): firewalld really runs, inside its
// netns only, on its private bus only, and teardown leaves no process behind. The root netns
// ruleset check is FirewalldTest's, after every firewalld test.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "fixture/firewalld_fixture.hpp"

namespace tether::testing {
namespace {

std::string listing(const std::string& dir) {
  std::string out;
  shell("ls -la --time-style=+%s " + dir + " 2>&1", &out);
  return out;
}

class FirewalldSandboxTest : public FirewalldTest {
 protected:
  std::optional<FirewalldSandbox::Start> sandbox_start() const override { return std::nullopt; }
};

TEST_F(FirewalldSandboxTest, FirewalldRulesetLivesInTheSandboxNetnsOnly) {
  const std::string run_dbus_before = listing("/run/dbus");
  const std::string etc_before = listing("/etc/firewalld");
  start_sandbox(FirewalldSandbox::Start::kWithFirewalld);

  // firewalld built its ruleset in the sandbox's netns...
  std::string out;
  ASSERT_EQ(sandbox().netns().exec("nft list tables", &out), 0) << out;
  EXPECT_NE(out.find("table inet firewalld"), std::string::npos) << out;
  // ...and answers on the private bus, from inside the sandbox (the standard socket path there).
  EXPECT_EQ(firewall_cmd(sandbox(), "--state"), "running");
  EXPECT_EQ(firewall_cmd(sandbox(), "--get-default-zone"), "public");
  // The bus socket is the sandbox's, reachable from here through the temp dir.
  const std::string socket = sandbox().bus_address().substr(std::string("unix:path=").size());
  struct stat st;
  ASSERT_EQ(::stat(socket.c_str(), &st), 0) << socket;
  EXPECT_TRUE(S_ISSOCK(st.st_mode));

  // The root netns has no firewalld table (the full ruleset comparison is in TearDown).
  ASSERT_EQ(shell("nft list tables", &out), 0) << out;
  EXPECT_EQ(out.find("firewalld"), std::string::npos) << out;
  // The host's /run/dbus and /etc/firewalld did not change: the sandbox's mounts stay in its
  // mount namespace.
  EXPECT_EQ(listing("/run/dbus"), run_dbus_before);
  EXPECT_EQ(listing("/etc/firewalld"), etc_before);

  // Teardown kills every process of the sandbox: nothing is left in its netns.
  EXPECT_EQ(sandbox().shutdown(), "");
}

TEST_F(FirewalldSandboxTest, StopAndStartFirewalld) {
  start_sandbox(FirewalldSandbox::Start::kWithFirewalld);
  sandbox().stop_firewalld();
  std::string out;
  EXPECT_NE(sandbox().exec("firewall-cmd --state", &out), 0) << out;
  EXPECT_NE(out.find("not running"), std::string::npos) << out;
  // CleanupOnExit=yes: a stopped firewalld removes its ruleset.
  ASSERT_EQ(sandbox().netns().exec("nft list tables", &out), 0) << out;
  EXPECT_EQ(out.find("firewalld"), std::string::npos) << out;
  sandbox().start_firewalld();
  EXPECT_EQ(firewall_cmd(sandbox(), "--state"), "running");
}

TEST_F(FirewalldSandboxTest, BusOnlyHasNoFirewalld) {
  start_sandbox(FirewalldSandbox::Start::kBusOnly);
  std::string out;
  EXPECT_NE(sandbox().exec("firewall-cmd --state", &out), 0) << out;
  EXPECT_NE(out.find("not running"), std::string::npos) << out;
  // The bus itself answers.
  EXPECT_EQ(sandbox().exec("dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus "
                           "org.freedesktop.DBus.GetId",
                           &out),
            0)
      << out;
}

}  // namespace
}  // namespace tether::testing
