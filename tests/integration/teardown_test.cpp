// DEL and GC as the runtimes call them: the address is released only after the rules that point
// at it are gone; GC without a valid-attachments list (what `cnitool gc` sends) treats every
// attachment as stale; and a config whose IPAM leads back to tether stops after one delegation.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/leases.hpp"
#include "fixture/netns_fixture.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr const char* kBridge = "tttd0";

class TeardownTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    lock_file_ = temp_dir() + "/xtables.lock";
  }

  json conf() {
    json c = nat_bridge_conf("tdnet", kBridge, data_dir_, "10.86.0.0/24");
    c["firewallBackend"] = "iptables";
    return c;
  }
  PluginRun call(const std::string& cmd, const std::string& id, const std::string& netns, const json& c) {
    auto env = cni_env(cmd, id, netns);
    env["XTABLES_LOCKFILE"] = lock_file_;  // our own lock: holding it blocks no one else on the host
    return tether(env, c.dump());
  }
  std::size_t leases() { return count_leases(data_dir_ + "/tdnet"); }
  std::size_t tether_rules() {
    std::string out;
    EXPECT_EQ(host().exec("iptables-legacy-save -t nat 2>/dev/null", &out), 0);
    std::size_t n = 0;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) n += l.starts_with("-A ") && l.find("tether:") != std::string::npos;
    return n;
  }

  std::string data_dir_;
  std::string lock_file_;
};

// libcni runs portmap's DEL before bridge and IPAM, netavark removes firewall rules first: while a
// DNAT rule still points at an address, no other container may be handed that address.
TEST_F(TeardownTest, DelKeepsTheLeaseUntilTheNatRulesAreGone) {
  TestNetns& ctr = add_container();
  json c = conf();
  c["runtimeConfig"] = one_port_mapping(18080);
  PluginRun add = call("ADD", "pub", ctr.path(), c);
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  ASSERT_EQ(leases(), 1u);
  ASSERT_GT(tether_rules(), 0u);

  const int fd = ::open(lock_file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another iptables writer holds the lock past tether's wait
  PluginRun del = call("DEL", "pub", ctr.path(), c);
  ::close(fd);
  EXPECT_NE(del.exit_code, 0);
  const json err = json::parse(del.out);
  EXPECT_EQ(err["code"], 11) << del.out << " (try again later)";
  EXPECT_THAT(err["msg"].get<std::string>(), HasSubstr("stays leased")) << del.out;
  EXPECT_EQ(leases(), 1u) << "the address was released while a DNAT rule still points at it";
  EXPECT_GT(tether_rules(), 0u);

  PluginRun retry = call("DEL", "pub", ctr.path(), c);  // the runtime retries
  EXPECT_EQ(retry.exit_code, 0) << retry.out << retry.err;
  EXPECT_EQ(leases(), 0u);
  EXPECT_EQ(tether_rules(), 0u);
  EXPECT_THAT(link_names(ctr), ::testing::ElementsAre("lo"));
}

// libcni's GCNetworkList(ctx, list, nil) DELs every cached attachment, then calls GC with no
// cni.dev/valid-attachments key: whatever is left then is a leak (a lost cache entry).
TEST_F(TeardownTest, GcWithoutValidAttachmentsRemovesEverything) {
  TestNetns& a = add_container("a");
  TestNetns& b = add_container("b");
  json c = conf();
  ASSERT_EQ(call("ADD", "ga", a.path(), c).exit_code, 0);
  json pub = c;
  pub["runtimeConfig"] = one_port_mapping(18081);
  ASSERT_EQ(call("ADD", "gb", b.path(), pub).exit_code, 0);
  ASSERT_EQ(leases(), 2u);
  ASSERT_GT(tether_rules(), 0u);

  json gc = c;  // cniVersion 1.1.0, no valid-attachments key at all
  PluginRun r = tether({{"CNI_COMMAND", "GC"}, {"CNI_PATH", TETHER_BIN_DIR}, {"XTABLES_LOCKFILE", lock_file_}},
                       gc.dump());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(leases(), 0u);
  EXPECT_EQ(tether_rules(), 0u);
}

TEST_F(TeardownTest, IpamGcWithoutValidAttachmentsReleasesEveryLease) {
  json c = conf()["ipam"];
  json ipam_conf = {{"cniVersion", "1.1.0"}, {"name", "tdnet"}, {"type", "tether-ipam"}, {"ipam", c}};
  for (const char* id : {"i1", "i2"}) {
    PluginRun add = tether_ipam(cni_env("ADD", id, "/var/run/netns/none"), ipam_conf.dump());
    ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  }
  ASSERT_EQ(leases(), 2u);
  PluginRun r = tether_ipam({{"CNI_COMMAND", "GC"}}, ipam_conf.dump());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(leases(), 0u);
}

// Self-delegation and loops, with stand-in plugins that count how often they run and refuse to go
// deeper than kGuard: a regression shows as a count above 1 instead of a runaway process tree.
class DelegationLoopTest : public TeardownTest {
 protected:
  static constexpr int kGuard = 4;
  void SetUp() override {
    TeardownTest::SetUp();
    if (IsSkipped()) return;
    bin_dir_ = temp_dir();
    counter_ = bin_dir_ + "/count";
  }
  // A plugin named `name` on CNI_PATH that execs the real tether with the same stdin and env.
  void write_stand_in(const std::string& name) {
    const std::string path = bin_dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n"
                        << "n=$(cat " << counter_ << " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " << counter_
                        << "\n"
                        << "if [ $n -gt " << kGuard
                        << " ]; then echo '{\"code\":999,\"msg\":\"test guard: runaway delegation\"}'; exit 1; fi\n"
                        << "exec " << TETHER_PLUGIN_BIN << "\n";
    ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  }
  int runs() {
    std::ifstream f(counter_);
    int n = 0;
    f >> n;
    return n;
  }
  PluginRun call_with_path(const std::string& cmd, const std::string& id, const std::string& netns, const json& c) {
    auto env = cni_env(cmd, id, netns);
    env["CNI_PATH"] = bin_dir_;
    env["XTABLES_LOCKFILE"] = lock_file_;
    return tether(env, c.dump());
  }
  std::string bin_dir_;
  std::string counter_;
};

TEST_F(DelegationLoopTest, IpamTypeNamingThePluginItselfIsRefused) {
  write_stand_in("tether");
  TestNetns& ctr = add_container();
  json c = conf();
  c["ipam"] = {{"type", "tether"}};  // a typo for tether-ipam
  PluginRun add = call_with_path("ADD", "self", ctr.path(), c);
  EXPECT_NE(add.exit_code, 0);
  const json err = json::parse(add.out);
  EXPECT_EQ(err["code"], 7);
  EXPECT_THAT(err["msg"].get<std::string>(), HasSubstr("ipam.type"));
  EXPECT_THAT(link_names(host()), ::testing::ElementsAre("lo")) << "refused before any change";
  PluginRun del = call_with_path("DEL", "self", ctr.path(), c);
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err << " (DEL of a refused config succeeds)";
  PluginRun gc = tether({{"CNI_COMMAND", "GC"}, {"CNI_PATH", bin_dir_}, {"XTABLES_LOCKFILE", lock_file_}}, c.dump());
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;
  EXPECT_EQ(runs(), 0) << "tether ran itself as its IPAM";
}

TEST_F(DelegationLoopTest, LoopThroughAnotherPluginStopsAfterOneLevel) {
  write_stand_in("loop-ipam");  // an IPAM plugin that (wrongly) hands the call back to tether
  TestNetns& ctr = add_container();
  json c = conf();
  c["ipam"] = {{"type", "loop-ipam"}};
  PluginRun del = call_with_path("DEL", "loop", ctr.path(), c);
  EXPECT_NE(del.exit_code, 0);
  EXPECT_THAT(del.out, HasSubstr("TETHER_DELEGATED")) << del.out;
  EXPECT_EQ(runs(), 1) << "delegation went deeper than one level";

  ::unlink(counter_.c_str());
  PluginRun add = call_with_path("ADD", "loop", ctr.path(), c);
  EXPECT_NE(add.exit_code, 0);
  EXPECT_LE(runs(), 1) << "delegation went deeper than one level";
  EXPECT_THAT(link_names(ctr), ::testing::ElementsAre("lo")) << "the failed ADD left its interface";
}

}  // namespace
}  // namespace tether::testing
