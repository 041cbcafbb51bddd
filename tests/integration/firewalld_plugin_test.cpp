// The plugin beside a real firewalld (fixture/firewalld_sandbox.hpp): the sandbox's netns is the
// node. ADD puts the network's subnet into the `trusted` zone and the container reaches an outside
// host through firewalld's forward filter; `firewall-cmd --reload` drops that runtime trust (and
// with it the container's way out); `tether firewall-reload --watch` puts it back at start and
// after every further reload; the last DEL takes the subnet out of the zone.
//
//   outside (10.84.0.2) ── eth0 | tvw0 [node 10.84.0.1] ttfd0 (10.85.0.1) ── c1 (10.85.0.x)
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/firewalld_fixture.hpp"
#include "fixture/netns_fixture.hpp"
#include "fixture/traffic.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;
using traffic::tcp_exchange;

constexpr const char* kSubnet = "10.85.0.0/24";
constexpr const char* kNodeUplink = "10.84.0.1";
constexpr const char* kOutside = "10.84.0.2";

// `tether firewall-reload --watch` in the sandbox's netns, output to a file; killed at the end.
class WatchProcess {
 public:
  WatchProcess(const FirewalldSandbox& sb, const std::string& state_dir, const std::string& log) : log_(log) {
    const std::string cmd = "exec ip netns exec " + sb.netns_name() +
                            " env DBUS_SYSTEM_BUS_ADDRESS=" + sb.bus_address() + " " + TETHER_BIN_DIR +
                            "/tether firewall-reload --watch --state-dir " + state_dir + " >" + log + " 2>&1";
    const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
    if (posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
  }
  ~WatchProcess() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
  }
  bool running() const { return pid_ > 0; }
  std::string output() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  // Waits (≤ 30 s) until the output holds `n` pass summaries.
  bool wait_for_passes(int n) const {
    for (auto deadline = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < deadline;) {
      const std::string out = output();
      int passes = 0;
      for (std::size_t at = 0; (at = out.find("firewall-reload: ", at)) != std::string::npos; ++at)
        passes += out.compare(at, 30, "firewall-reload: 1 attachments") == 0;
      if (passes >= n) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
};

class FirewalldPluginTest : public FirewalldTest {
 protected:
  void SetUp() override {
    FirewalldTest::SetUp();
    if (IsSkipped()) return;
    dir_ = std::filesystem::temp_directory_path() / ("tether-fwd-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    out_ = std::make_unique<TestNetns>("out");
    c1_ = std::make_unique<TestNetns>("c1");
    traffic::link_outside(node(), "tvw0", kNodeUplink, *out_, kOutside);
  }
  void TearDown() override {
    c1_.reset();
    out_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    FirewalldTest::TearDown();
  }

  const TestNetns& node() { return sandbox().netns(); }
  std::string state_dir() const { return dir_.string() + "/.state"; }
  json conf() const {
    json c = nat_bridge_conf("fwdnet", "ttfd0", dir_.string(), kSubnet, "auto");
    c["isDefaultGateway"] = true;
    return c;
  }
  PluginRun plugin(const std::string& command, const json& c) {
    const std::map<std::string, std::string> env = {{"CNI_COMMAND", command},
                                                    {"CNI_CONTAINERID", "c1"},
                                                    {"CNI_NETNS", c1_->path()},
                                                    {"CNI_IFNAME", "eth0"},
                                                    {"CNI_PATH", TETHER_BIN_DIR},
                                                    {"DBUS_SYSTEM_BUS_ADDRESS", sandbox().bus_address()}};
    return run_plugin(std::string(TETHER_BIN_DIR) + "/tether", env, c.dump(), sandbox().netns_name());
  }
  std::string trusted() { return firewall_cmd(sandbox(), "--zone=trusted --list-sources"); }
  std::string out_from_c1() { return tcp_exchange(*out_, 9000, *c1_, kOutside, 9000); }

  std::filesystem::path dir_;
  std::unique_ptr<TestNetns> out_, c1_;
};

TEST_F(FirewalldPluginTest, TrustFollowsTheNetworkAndSurvivesReloadsWithTheWatcher) {
  ASSERT_EQ(trusted(), "");
  // firewalld rejects forwarded traffic of a source it does not trust: the drop is real.
  const json c = conf();
  json untrusting = c;
  untrusting["forwardAccept"] = false;
  PluginRun a0 = plugin("ADD", untrusting);
  ASSERT_EQ(a0.exit_code, 0) << a0.out << a0.err;
  EXPECT_EQ(trusted(), "");
  EXPECT_NE(out_from_c1(), kNodeUplink) << "firewalld forwarded an untrusted source";
  PluginRun d0 = plugin("DEL", untrusting);
  ASSERT_EQ(d0.exit_code, 0) << d0.out << d0.err;

  PluginRun add = plugin("ADD", c);
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  EXPECT_EQ(trusted(), kSubnet);
  EXPECT_EQ(out_from_c1(), kNodeUplink) << "out through firewalld's forward filter and tether's NAT";

  firewall_cmd(sandbox(), "--reload");
  EXPECT_EQ(trusted(), "") << "a reload drops runtime sources";
  EXPECT_NE(out_from_c1(), kNodeUplink) << "cut off after the reload";

  {
    WatchProcess watch(sandbox(), state_dir(), dir_.string() + "/watch.log");
    ASSERT_TRUE(watch.running());
    ASSERT_TRUE(watch.wait_for_passes(1)) << watch.output();
    EXPECT_EQ(trusted(), kSubnet) << watch.output();
    EXPECT_EQ(out_from_c1(), kNodeUplink);

    firewall_cmd(sandbox(), "--reload");
    ASSERT_TRUE(watch.wait_for_passes(2)) << "no pass after firewalld's Reloaded: " << watch.output();
    EXPECT_EQ(trusted(), kSubnet) << watch.output();
    EXPECT_EQ(out_from_c1(), kNodeUplink) << "forwarding back after the reload";
  }

  PluginRun del = plugin("DEL", c);
  ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_EQ(trusted(), "") << "the last DEL takes the subnet out of the zone";
}

}  // namespace
}  // namespace tether::testing
