// libiptc rewrites whole tables, so two writers that skip the xtables lock silently lose each
// other's rules. Here a foreign `iptables-legacy -w` loop edits its own chain while 32 tether
// processes run ADD/DEL in the same netns (both sides on the same XTABLES_LOCKFILE): every rule of
// both sides must be there at the end, and nothing else.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixture/netns_fixture.hpp"
#include "lib/fw_iptables/iptables_firewall.hpp"
#include "lib/netns/netns.hpp"

extern char** environ;

namespace tether::firewall {
namespace {

constexpr int kWorkers = 32;
constexpr int kForeignRules = 240;

// Workers 0, 1 (mod 4) publish a port (their masquerade is the network's rule); 2, 3 only
// masquerade (a rule of their own).
bool publishes(int i) { return i % 4 < 2; }

NatPlan worker_plan(int i) {
  NatPlan p;
  p.key = {"concnet", "ctr-" + std::to_string(i), "eth0"};
  p.ip_masq = true;
  p.container_ips = {*net::IpPrefix::parse("10.60.0." + std::to_string(i + 2) + "/24")};
  if (publishes(i)) p.port_mappings = {{static_cast<std::uint16_t>(20000 + i), 80, net::L4Proto::Tcp, {}}};
  return p;
}

std::set<std::string> lines_with(const std::string& text, const std::string& needle) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (l.find(needle) != std::string::npos) out.insert(l);
  return out;
}

class IptablesConcurrencyTest : public testing::NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    ::setenv("XTABLES_LOCKFILE", (temp_dir() + "/xtables.lock").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("XTABLES_LOCKFILE");
    NetnsTest::TearDown();
  }
};

TEST_F(IptablesConcurrencyTest, ForeignWriterAndTetherLoseNothing) {
  std::string out;
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -N FOREIGN", &out), 0) << out;
  // Foreign side: append rule i, and delete it again when i % 3 == 0 (adds and deletes interleave,
  // the pattern that makes lock-less table replaces lose updates without any error).
  const std::string script = "for i in $(seq 1 " + std::to_string(kForeignRules) +
                             "); do iptables-legacy -w -t nat -A FOREIGN -s 10.200.$((i / 200)).$((i % 200))/32 -j "
                             "RETURN"
                             " || exit 1; if [ $((i % 3)) -eq 0 ]; then iptables-legacy -w -t nat -D FOREIGN"
                             " -s 10.200.$((i / 200)).$((i % 200))/32 -j RETURN || exit 1; fi; done";
  std::string ns = host().name();
  std::vector<std::string> argv_s = {"ip", "netns", "exec", ns, "sh", "-c", script};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t foreign = -1;
  ASSERT_EQ(::posix_spawnp(&foreign, "ip", nullptr, nullptr, argv.data(), environ), 0);

  // Tether side: 32 processes (libiptc is per-process state), each in the host netns: ADD, and for
  // odd workers DEL, three rounds each.
  std::vector<pid_t> workers;
  for (int i = 0; i < kWorkers; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        netns::NetnsGuard guard(netns::Netns::open(host().path()));
        auto fw = make_iptables_firewall();
        for (int round = 0; round < 3; ++round) {
          fw->add(worker_plan(i));
          if (i % 2 == 1) fw->del(worker_plan(i).key);
        }
      } catch (const std::exception& e) {
        std::cerr << "worker " << i << ": " << e.what() << "\n";
        rc = 1;
      }
      ::_exit(rc);
    }
    workers.push_back(pid);
  }
  for (pid_t pid : workers) {
    int st = 0;
    ASSERT_EQ(::waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "a tether worker failed";
  }
  int st = 0;
  ASSERT_EQ(::waitpid(foreign, &st, 0), foreign);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the foreign iptables loop failed";

  ASSERT_EQ(host().exec("iptables-legacy-save -t nat", &out), 0) << out;
  std::set<std::string> want_foreign;
  for (int i = 1; i <= kForeignRules; ++i)
    if (i % 3 != 0)
      want_foreign.insert("-A FOREIGN -s 10.200." + std::to_string(i / 200) + "." + std::to_string(i % 200) +
                          "/32 -j RETURN");
  EXPECT_EQ(lines_with(out, "-A FOREIGN"), want_foreign);
  // Even workers keep their one rule (DNAT, or their own masquerade); odd ones have none left.
  for (int i = 0; i < kWorkers; ++i) {
    const std::string tag = " id=ctr-" + std::to_string(i) + " if=eth0\"";
    const auto mine = lines_with(out, tag);
    EXPECT_EQ(mine.size(), i % 2 == 0 ? 1u : 0u) << "worker " << i;
    for (const auto& l : mine)
      EXPECT_EQ(l.rfind(publishes(i) ? "-A TETHER-HOSTPORTS" : "-A TETHER-POSTROUTING", 0), 0u) << l;
  }
  EXPECT_EQ(lines_with(out, "-A TETHER-HOSTPORTS").size(), kWorkers / 4 + 1u);  // + the network's hairpin mark
  // 3 shared + the network's masquerade + 1 per even masquerade-only worker
  EXPECT_EQ(lines_with(out, "-A TETHER-POSTROUTING").size(), 3 + 1 + kWorkers / 4u);
  EXPECT_EQ(lines_with(out, "-s 10.60.0.0/24 ! -d 10.60.0.0/24").size(), 1u);
}

}  // namespace
}  // namespace tether::firewall
