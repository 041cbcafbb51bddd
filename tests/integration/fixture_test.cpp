// The harness itself: namespaces appear and vanish, plugins run inside the fake host netns.
#include <fstream>

#include "fixture/netns_fixture.hpp"

namespace tether::testing {
namespace {

bool netns_exists(const std::string& name) {
  std::string out;
  shell("ip netns list", &out);
  return out.find(name) != std::string::npos;
}

TEST(FixtureNetns, CreatedAndRemoved) {
  if (!is_root()) GTEST_SKIP() << "needs root";
  std::string name;
  {
    TestNetns ns("probe");
    name = ns.name();
    EXPECT_TRUE(netns_exists(name));
    std::string out;
    ASSERT_EQ(ns.exec("ip -o link show lo", &out), 0) << out;
    EXPECT_NE(out.find("UP"), std::string::npos) << out;
  }
  EXPECT_FALSE(netns_exists(name));
}

class FixtureRun : public NetnsTest {};

TEST_F(FixtureRun, RunsBinaryInsideHostNetnsWithEnvAndStdin) {
  std::string dir = temp_dir();
  std::string script = dir + "/probe.sh";
  {
    std::ofstream f(script);
    // Prints its env var, its stdin and the netns interface list (a fresh netns has only lo).
    f << "#!/bin/sh\necho \"cmd=$CNI_COMMAND\"\ncat\ncat /proc/net/dev\necho oops >&2\nexit 3\n";
  }
  ASSERT_EQ(shell("chmod +x " + script), 0);
  shell("ip -n " + host().name() + " link add tt-fixture-br type bridge");
  PluginRun r = run_plugin(script, {{"CNI_COMMAND", "VERSION"}}, "hello\n", host().name());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("cmd=VERSION"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("hello"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tt-fixture-br"), std::string::npos) << "not run inside the host netns: " << r.out;
  EXPECT_EQ(r.err, "oops\n");
  std::string root_links;
  shell("cat /proc/net/dev", &root_links);
  EXPECT_EQ(root_links.find("tt-fixture-br"), std::string::npos);
}

}  // namespace
}  // namespace tether::testing
