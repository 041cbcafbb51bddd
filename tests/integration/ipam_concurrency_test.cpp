// Many real tether-ipam processes on one network, and interop with Debian's host-local.
#include <chrono>
#include <mutex>
#include <thread>

#include "ipam_test_util.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

std::string first_ip(const json& r) { return r.at("ips").at(0).at("address"); }

// Built with += (GCC 12 misreports "a" + to_string(..) + "b" chains under -O3 -Wrestrict).
std::string name_of(const char* a, int x, const char* b = "", int y = -1) {
  std::string s = a;
  s += std::to_string(x);
  s += b;
  if (y >= 0) s += std::to_string(y);
  return s;
}

TEST_F(IpamBinaryTest, SixtyFourConcurrentAddsGetDistinctAddresses) {
  const std::string c = conf(R"([[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]])");
  constexpr int kN = 64;
  // Every third v4 address is already leased: round-robin must step over them, never take them.
  std::filesystem::create_directories(net_dir());
  std::map<std::string, std::string> before;
  for (int host = 2; host < 254; host += 3) {
    const std::string ip = name_of("10.1.0.", host);
    const std::string owner = name_of("old", host, "\r\neth0");
    std::ofstream(net_dir() + "/" + ip) << owner;
    before[ip] = owner;
  }
  std::vector<PluginRun> runs(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) threads.emplace_back([&, i] { runs[i] = ipam("ADD", name_of("ctr", i), c); });
  for (auto& t : threads) t.join();
  std::set<std::string> v4, v6;
  for (int i = 0; i < kN; ++i) {
    ASSERT_EQ(runs[i].exit_code, 0) << runs[i].out << runs[i].err;
    const json r = json::parse(runs[i].out);
    v4.insert(r["ips"][0]["address"]);
    v6.insert(r["ips"][1]["address"]);
  }
  EXPECT_EQ(v4.size(), static_cast<std::size_t>(kN));
  EXPECT_EQ(v6.size(), static_cast<std::size_t>(kN));
  auto l = leases();
  EXPECT_EQ(l.size(), static_cast<std::size_t>(2 * kN) + before.size());
  for (const auto& [ip, owner] : before) {
    EXPECT_EQ(l[ip], owner) << "pre-existing lease " << ip << " was taken over";
    l.erase(ip);
  }
  std::set<std::string> owners;
  for (const auto& [ip, owner] : l) owners.insert(owner);
  EXPECT_EQ(owners.size(), static_cast<std::size_t>(kN));
}

TEST_F(IpamBinaryTest, AddDelStormNeverHandsOneAddressToTwoContainers) {
  // 13 usable addresses for 12 workers: the round-robin cursor keeps landing on held addresses.
  const std::string c = conf(R"([[{"subnet":"10.1.0.0/28"}]])");
  constexpr int kWorkers = 12, kRounds = 15;
  std::mutex mu;
  std::map<std::string, std::string> holder;  // address → container currently holding it
  std::vector<std::string> problems;
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string id = name_of("w", w, "r", round);
        const PluginRun a = ipam("ADD", id, c);
        if (a.exit_code != 0) {
          std::lock_guard g(mu);
          problems.push_back("ADD " + id + ": " + a.out);
          continue;
        }
        const std::string ip = first_ip(json::parse(a.out));
        {
          std::lock_guard g(mu);
          // The previous holder leaves this map before its DEL starts, so a present entry
          // means two containers hold the address at once.
          if (auto it = holder.find(ip); it != holder.end())
            problems.push_back(ip + " given to " + id + " while held by " + it->second);
          holder[ip] = id;
          // While we hold it, the file on disk must name us.
          const std::string on_disk = read(ip.substr(0, ip.find('/')));
          if (on_disk != id + "\r\neth0") problems.push_back(ip + " on disk is '" + on_disk + "', expected " + id);
        }
        // Uneven holds (0-48 ms): round-robin is FIFO, so only long holders get lapped by the
        // cursor, and those collisions are what a broken store would turn into double allocations.
        std::this_thread::sleep_for(std::chrono::milliseconds((w * 7 + round * 13) % 49));
        {
          std::lock_guard g(mu);
          const std::string on_disk = read(ip.substr(0, ip.find('/')));
          if (on_disk != id + "\r\neth0")
            problems.push_back(ip + " was overwritten by '" + on_disk + "' while " + id + " held it");
          holder.erase(ip);
        }
        const PluginRun d = ipam("DEL", id, c);
        if (d.exit_code != 0) {
          std::lock_guard g(mu);
          problems.push_back("DEL " + id + ": " + d.out);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: " << (problems.empty() ? "" : problems[0]);
  EXPECT_TRUE(leases().empty()) << "every DEL released its lease";
}

// Interop: the same network directory driven alternately by host-local and tether-ipam.
class IpamInterop : public IpamBinaryTest {
 protected:
  void SetUp() override {
    IpamBinaryTest::SetUp();
    if (IsSkipped()) return;
    if (!std::filesystem::exists(kHostLocal)) GTEST_SKIP() << kHostLocal << " missing";
  }
  // host-local 1.1.1 speaks up to 1.0.0.
  std::string c() const { return conf(R"([[{"subnet":"10.1.0.0/24"}],[{"subnet":"fd00:1::/64"}]])", "1.0.0"); }
};

TEST_F(IpamInterop, HostLocalLeaseIsHonouredAndReleasedByTetherIpam) {
  add_ok("tether1", c());  // builds and seals our index first
  const PluginRun h = host_local("ADD", "hl1", c());
  ASSERT_EQ(h.exit_code, 0) << h.out << h.err;
  const std::string hl_ip = first_ip(json::parse(h.out));
  EXPECT_EQ(hl_ip, "10.1.0.3/24");
  EXPECT_EQ(read("10.1.0.3"), "hl1\r\neth0");
  // Repeated ADD through tether-ipam returns host-local's lease (index noticed the change).
  EXPECT_EQ(first_ip(add_ok("hl1", c())), hl_ip);
  // A new container continues host-local's round-robin and never gets its address.
  EXPECT_EQ(first_ip(add_ok("tether2", c())), "10.1.0.4/24");
  EXPECT_EQ(ipam("DEL", "hl1", c()).exit_code, 0);
  EXPECT_FALSE(has("10.1.0.3"));
  EXPECT_FALSE(has("fd00:1::3"));
  EXPECT_EQ(leases().size(), 4u);
}

TEST_F(IpamInterop, TetherIpamLeaseIsHonouredAndReleasedByHostLocal) {
  const std::string ours = first_ip(add_ok("t1", c()));
  EXPECT_EQ(ours, "10.1.0.2/24");
  // host-local sees our file: same (id, ifname) is a duplicate for it, others get new addresses.
  const PluginRun dup = host_local("ADD", "t1", c());
  EXPECT_NE(dup.exit_code, 0);
  EXPECT_NE(dup.out.find("duplicate allocation"), std::string::npos) << dup.out;
  const PluginRun other = host_local("ADD", "h2", c());
  ASSERT_EQ(other.exit_code, 0) << other.out;
  EXPECT_EQ(first_ip(json::parse(other.out)), "10.1.0.3/24");
  // host-local's DEL removes our lease files; tether-ipam then sees t1 as gone.
  EXPECT_EQ(host_local("DEL", "t1", c()).exit_code, 0);
  EXPECT_FALSE(has("10.1.0.2"));
  EXPECT_FALSE(has("fd00:1::2"));
  json prev = json::parse(c());
  prev["prevResult"] = json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/24"}]})");
  EXPECT_NE(ipam("CHECK", "t1", prev.dump()).exit_code, 0);
  const json again = add_ok("t1", c());
  EXPECT_EQ(first_ip(again), "10.1.0.4/24") << "fresh lease after host-local's DEL, round-robin continues";
  // host-local's CHECK accepts our lease.
  json chk = json::parse(c());
  chk["prevResult"] = again;
  EXPECT_EQ(host_local("CHECK", "t1", chk.dump()).exit_code, 0);
}

TEST_F(IpamInterop, Ipv6FileNamesMatchHostLocalsSpelling) {
  // Two equal runs of zero groups: both must compress the first ("fd00::1:0:0:ffff:fffe").
  const std::string v6 = conf(R"([[{"subnet":"fd00:0:0:1::/64","rangeStart":"fd00:0:0:1:0:0:ffff:fffe"}]])", "1.0.0");
  const PluginRun h = host_local("ADD", "h1", v6);
  ASSERT_EQ(h.exit_code, 0) << h.out;
  EXPECT_TRUE(has("fd00::1:0:0:ffff:fffe"));
  EXPECT_EQ(first_ip(add_ok("t1", v6)), "fd00::1:0:0:ffff:ffff/64");
  EXPECT_TRUE(has("fd00::1:0:0:ffff:ffff"));
  EXPECT_EQ(ipam("DEL", "h1", v6).exit_code, 0);
  EXPECT_EQ(host_local("DEL", "t1", v6).exit_code, 0);
  EXPECT_TRUE(leases().empty());
}

}  // namespace
}  // namespace tether::testing
