// tether-ipam through its real binary: every verb, every result version, crash leftovers.
#include <signal.h>
#include <sys/file.h>

#include <chrono>
#include <cstdio>

#include "ipam_test_util.hpp"
#include "lib/sys/file_lock.hpp"
#include "tests/open_watch.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

class IpamVerbs : public IpamBinaryTest, public ::testing::WithParamInterface<std::string> {};

// Result shape per version: 0.1/0.2 ip4/ip6; 0.3.x/0.4.0 ips with "version"; 1.x ips without.
void expect_shape(const json& r, const std::string& v, const std::string& v4, const std::string& v6) {
  EXPECT_EQ(r.at("cniVersion"), v);
  if (v == "0.1.0" || v == "0.2.0") {
    EXPECT_EQ(r.at("ip4").at("ip"), v4);
    EXPECT_EQ(r.at("ip4").at("gateway"), "10.1.0.1");
    EXPECT_EQ(r.at("ip6").at("ip"), v6);
    return;
  }
  ASSERT_EQ(r.at("ips").size(), 2u) << r;
  EXPECT_EQ(r["ips"][0].at("address"), v4);
  EXPECT_EQ(r["ips"][0].at("gateway"), "10.1.0.1");
  EXPECT_EQ(r["ips"][1].at("address"), v6);
  EXPECT_FALSE(r["ips"][0].contains("interface")) << "IPAM results carry no interface index";
  EXPECT_EQ(r["ips"][0].contains("version"), v.starts_with("0."));
  if (v.starts_with("0.")) {
    EXPECT_EQ(r["ips"][1].at("version"), "6");
  }
  EXPECT_EQ(r.at("routes").at(0).at("dst"), "0.0.0.0/0");
}

TEST_P(IpamVerbs, AddCheckDelRoundTrip) {
  const std::string v = GetParam();
  const std::string c = conf(R"([[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]])", v,
                             R"(,"routes":[{"dst":"0.0.0.0/0"}])");
  const json r = add_ok("ctr1", c);
  expect_shape(r, v, "10.1.0.2/24", "fd00:1::2/64");
  EXPECT_EQ(read("10.1.0.2"), "ctr1\r\neth0");
  EXPECT_EQ(read("fd00:1::2"), "ctr1\r\neth0");
  EXPECT_EQ(read("last_reserved_ip.0"), "10.1.0.2");
  EXPECT_EQ(read("last_reserved_ip.1"), "fd00:1::2");

  // Repeated ADD: the same lease back, nothing new on disk.
  EXPECT_EQ(add_ok("ctr1", c), r);
  EXPECT_EQ(leases().size(), 2u);

  const bool has_check = !(v.starts_with("0.1") || v.starts_with("0.2") || v.starts_with("0.3"));
  json with_prev = json::parse(c);
  with_prev["prevResult"] = r;
  if (has_check) {
    const PluginRun chk = ipam("CHECK", "ctr1", with_prev.dump());
    EXPECT_EQ(chk.exit_code, 0) << chk.out << chk.err;
    EXPECT_TRUE(chk.out.empty());
  }
  const PluginRun del = ipam("DEL", "ctr1", with_prev.dump());
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_TRUE(del.out.empty());
  EXPECT_TRUE(leases().empty());
  EXPECT_EQ(ipam("DEL", "ctr1", c).exit_code, 0) << "repeated DEL succeeds";
  if (has_check) {
    EXPECT_NE(ipam("CHECK", "ctr1", with_prev.dump()).exit_code, 0) << "CHECK after DEL fails";
  }
}

INSTANTIATE_TEST_SUITE_P(AllVersions, IpamVerbs,
                         ::testing::Values("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) ch = ch == '.' ? '_' : ch;
                           return "v" + n;
                         });

TEST_F(IpamBinaryTest, CheckDetectsLeaseThatDiffersFromPrevResult) {
  const std::string c = conf();
  const json r = add_ok("ctr1", c);
  json bad = json::parse(c);
  bad["prevResult"] = r;
  bad["prevResult"]["ips"][0]["address"] = "10.1.0.99/24";
  EXPECT_NE(ipam("CHECK", "ctr1", bad.dump()).exit_code, 0);
  // A lease someone removed behind our back.
  std::filesystem::remove(net_dir() + "/10.1.0.2");
  json good = json::parse(c);
  good["prevResult"] = r;
  EXPECT_NE(ipam("CHECK", "ctr1", good.dump()).exit_code, 0);
}

TEST_F(IpamBinaryTest, DelReleasesOnlyItsOwnInterfaceAndLegacyFiles) {
  const std::string c = conf();
  add_ok("ctr1", c, "eth0");
  add_ok("ctr1", c, "eth1");
  add_ok("ctr2", c, "eth0");
  EXPECT_EQ(ipam("DEL", "ctr1", c, "eth0").exit_code, 0);
  auto l = leases();
  EXPECT_EQ(l.size(), 2u);
  for (const auto& [ip, owner] : l) EXPECT_NE(owner, "ctr1\r\neth0");
  // A legacy file holding just the ID is released by DEL of that ID.
  { std::ofstream(net_dir() + "/10.1.0.50") << "ctrOld"; }
  EXPECT_EQ(ipam("DEL", "ctrOld", c).exit_code, 0);
  EXPECT_FALSE(has("10.1.0.50"));
  // DEL with no store at all succeeds and creates nothing.
  std::filesystem::remove_all(net_dir());
  EXPECT_EQ(ipam("DEL", "ctr9", c).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(net_dir()));
}

TEST_F(IpamBinaryTest, RequestedIpsAndAllOrNothing) {
  const std::string dual = R"([[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]])";
  json r = add_ok("ctr1", conf(dual), "eth0", "IgnoreUnknown=1;IP=10.1.0.40,fd00:1::40");
  EXPECT_EQ(r["ips"][0]["address"], "10.1.0.40/24");
  EXPECT_EQ(r["ips"][1]["address"], "fd00:1::40/64");
  // v6 request already taken: the v4 address reserved first must not stay behind.
  const PluginRun bad = ipam("ADD", "ctr2", conf(dual), "eth0", "IP=10.1.0.41,fd00:1::40");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("fd00:1::40"), std::string::npos) << bad.out;
  EXPECT_FALSE(has("10.1.0.41"));
  // runtimeConfig.ips and args.cni.ips.
  r = add_ok("ctr3", conf(dual, "1.1.0", "", R"("runtimeConfig":{"ips":["10.1.0.42/24"]},)"));
  EXPECT_EQ(r["ips"][0]["address"], "10.1.0.42/24");
  r = add_ok("ctr4", conf(dual, "1.1.0", "", R"("args":{"cni":{"ips":["fd00:1::43"]}},)"));
  EXPECT_EQ(r["ips"][1]["address"], "fd00:1::43/64");
  // Outside every range: code 7, nothing allocated.
  const PluginRun out = ipam("ADD", "ctr5", conf(dual), "eth0", "IP=192.168.9.9");
  EXPECT_EQ(error_code(out), 7) << out.out;
  EXPECT_EQ(leases().size(), 6u);
}

TEST_F(IpamBinaryTest, InvalidConfigIsCode7NamingTheKey) {
  const PluginRun r = ipam("ADD", "ctr1", conf(R"([[{"subnet":"10.1.0.0/24","gateway":"10.2.0.1"}]])"));
  EXPECT_EQ(error_code(r), 7) << r.out;
  EXPECT_NE(r.out.find("ipam.ranges[0][0].gateway"), std::string::npos) << r.out;
  EXPECT_TRUE(leases().empty());
}

TEST_F(IpamBinaryTest, ResolvConfBecomesDns) {
  const std::string rc = data_dir_ + "/resolv.conf";
  { std::ofstream(rc) << "nameserver 10.1.0.53\nsearch example.test\n"; }
  const json r = add_ok("ctr1", conf(R"([[{"subnet":"10.1.0.0/24"}]])", "1.0.0", R"(,"resolvConf":")" + rc + "\""));
  EXPECT_EQ(r.at("dns").at("nameservers").at(0), "10.1.0.53");
  EXPECT_EQ(r.at("dns").at("search").at(0), "example.test");
}

TEST_F(IpamBinaryTest, GcReleasesLeasesNotInValidAttachments) {
  const std::string c = conf();
  add_ok("keep", c);
  add_ok("drop", c);
  add_ok("keep", c, "eth1");
  { std::ofstream(net_dir() + "/10.1.0.60") << "legacykeep"; }
  { std::ofstream(net_dir() + "/10.1.0.61") << std::string("\0\x01", 2); }  // garbage
  json gc = json::parse(c);
  gc["cni.dev/valid-attachments"] = json::array(
      {{{"containerID", "keep"}, {"ifname", "eth0"}}, {{"containerID", "legacykeep"}, {"ifname", "eth0"}}});
  PluginRun r = ipam("GC", "", gc.dump());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto l = leases();
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l["10.1.0.2"], "keep\r\neth0");
  EXPECT_EQ(l["10.1.0.60"], "legacykeep");
  // The old misspelled key works too; an empty list releases everything.
  json gc2 = json::parse(c);
  gc2["cni.dev/attachments"] = json::array();
  r = ipam("GC", "", gc2.dump());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(leases().empty());
  // The index stays truthful after GC: a fresh ADD for "keep" gets a new lease.
  const json again = add_ok("keep", c);
  EXPECT_EQ(leases().size(), 1u);
  EXPECT_EQ(again["ips"][0]["address"], "10.1.0.5/24");
}

TEST_F(IpamBinaryTest, StatusReportsExhaustionAndUnusableStore) {
  const std::string small = conf(R"([[{"subnet":"10.1.0.0/30"}]])");  // one usable address
  PluginRun s = ipam("STATUS", "", small);
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  add_ok("ctr1", small);
  s = ipam("STATUS", "", small);
  EXPECT_EQ(error_code(s), 50) << s.out;
  EXPECT_NE(ipam("ADD", "ctr2", small).exit_code, 0) << "STATUS was right: ADD fails";
  EXPECT_EQ(ipam("DEL", "ctr1", small).exit_code, 0);
  EXPECT_EQ(ipam("STATUS", "", small).exit_code, 0);

  // dataDir below a regular file (even an executable one): nothing can be created there.
  { std::ofstream(data_dir_ + "/file") << "x"; }
  std::filesystem::permissions(data_dir_ + "/file", std::filesystem::perms::owner_all);
  json broken = json::parse(small);
  broken["ipam"]["dataDir"] = data_dir_ + "/file/sub";
  s = ipam("STATUS", "", broken.dump());
  EXPECT_EQ(error_code(s), 50) << s.out;
}

TEST_F(IpamBinaryTest, StatusDoesNotWaitForTheLockButAddDoes) {
  const std::string c = conf();
  add_ok("ctr1", c);
  auto lock = sys::FileLock::acquire(net_dir() + "/lock", std::chrono::milliseconds(100), 11);
  OpenWatch lock_opens(net_dir() + "/lock");
  const auto t0 = std::chrono::steady_clock::now();
  // We hold the lock for the whole test: a STATUS that waited for it would fail (code 11 after the
  // 30 s lock timeout, or killed by the runner at 30 s) rather than answer 0, and one that tried it
  // at all (a bounded wait, a try-lock) would show as an open of the lock file.
  const PluginRun s = run_plugin(TETHER_IPAM_BIN, env("STATUS", ""), c);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(s.exit_code, 0) << s.out << s.err;
  EXPECT_FALSE(lock_opens.opened()) << "STATUS opened the store's lock file";
  RecordProperty("status_lock_held_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  // ADD blocks on the held lock (killed by the runner's timeout instead of finishing).
  const PluginRun a = run_plugin(TETHER_IPAM_BIN, env("ADD", "ctr2"), c, "", 400);
  EXPECT_NE(a.exit_code, 0);
  EXPECT_TRUE(lock_opens.opened()) << "the ADD did not go for the lock (or the watch sees nothing)";
  EXPECT_EQ(leases().size(), 1u);
}

TEST_F(IpamBinaryTest, CrashLeftFilesAreHandled) {
  std::filesystem::create_directories(net_dir());
  { std::ofstream(net_dir() + "/10.1.0.2"); }                                       // empty: crashed create
  { std::ofstream(net_dir() + "/10.1.0.3") << std::string("\0\0\0\0", 4); }         // zero-filled
  { std::ofstream(net_dir() + "/.tether-tmp.424242.0.lease") << "ghost\r\neth0"; }  // our temp file
  { std::ofstream(net_dir() + "/last_reserved_ip.0") << "not an ip"; }              // torn cursor
  json r = add_ok("ctr1", conf());
  EXPECT_EQ(r["ips"][0]["address"], "10.1.0.2/24") << "empty file reclaimed under the lock";
  r = add_ok("ctr2", conf());
  EXPECT_EQ(r["ips"][0]["address"], "10.1.0.4/24") << "garbage keeps its address out of use";
  EXPECT_FALSE(has(".tether-tmp.424242.0.lease"));
  // The ghost in the temp file never became a lease: DEL finds nothing, CHECK fails.
  EXPECT_EQ(ipam("DEL", "ghost", conf()).exit_code, 0);
  EXPECT_EQ(leases().size(), 3u);
}

std::string kid(int i) {
  std::string s = "k";
  s += std::to_string(i);
  return s;
}

TEST_F(IpamBinaryTest, ProcessesKilledMidOperationLeaveNothingMisattributed) {
  const std::string c = conf(R"([[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]])");
  constexpr int kN = 120;
  int killed = 0;
  for (int i = 0; i < kN; ++i) {
    // SIGKILL after 0-2 ms: lands anywhere from exec to exit, including inside the lock.
    const PluginRun r = run_plugin(TETHER_IPAM_BIN, env("ADD", kid(i)), c, "", i % 3);
    killed += r.exit_code == 128 + SIGKILL ? 1 : 0;
  }
  EXPECT_GT(killed, 0) << "the test must actually interrupt some calls";
  std::printf("killed %d of %d ADDs; lease files left: %zu\n", killed, kN, leases().size());
  // Every file that names an owner names a container that got as far as reserving; DEL finds it
  // even though the index update may have died with the process.
  for (int i = 0; i < kN; ++i) {
    const PluginRun d = ipam("DEL", kid(i), c);
    EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  }
  for (const auto& [ip, owner] : leases()) EXPECT_EQ(owner, "") << ip << " still held after every DEL";
  // Whatever is left (empty files from a kill between create and write) is reclaimed or GC'd.
  json gc = json::parse(c);
  gc["cni.dev/valid-attachments"] = json::array();
  EXPECT_EQ(ipam("GC", "", gc.dump()).exit_code, 0);
  EXPECT_TRUE(leases().empty());
  const json r = add_ok("after", c);
  EXPECT_EQ(r["ips"].size(), 2u);
  EXPECT_EQ(ipam("DEL", "after", c).exit_code, 0);
  EXPECT_TRUE(leases().empty());
}

}  // namespace
}  // namespace tether::testing
