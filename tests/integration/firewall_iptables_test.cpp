// The libiptc firewall backend against a real (throwaway) netns nat table: rules are read back with
// iptables-legacy-save and each one must also pass `iptables-legacy -C` (the CLI builds the bytes
// from the text: equality proves our byte layout), DEL/GC leave nothing behind, CHECK notices a
// missing rule, and the xtables lock is honoured.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fixture/netns_fixture.hpp"
#include "lib/firewall/naming.hpp"
#include "lib/fw_iptables/iptables_firewall.hpp"
#include "lib/fw_iptables/nat_rules.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {
namespace {

using testing::NetnsTest;

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

class FirewallIptablesTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    // Our own lock file: never contend with (or block) the real host's iptables users.
    lock_path_ = temp_dir() + "/xtables.lock";
    ::setenv("XTABLES_LOCKFILE", lock_path_.c_str(), 1);
    fw_ = make_iptables_firewall();
  }
  void TearDown() override {
    ::unsetenv("XTABLES_LOCKFILE");
    NetnsTest::TearDown();
  }

  template <class F>
  void in_host(F&& f) {
    netns::NetnsGuard guard(netns::Netns::open(host().path()));
    f();
  }

  // Lines of `<tool>-legacy-save -t nat` that mention TETHER (a multiset: duplicates must show).
  std::multiset<std::string> tether_lines(const char* tool = "iptables") {
    std::string out;
    EXPECT_EQ(host().exec(std::string(tool) + "-legacy-save -t nat", &out), 0) << out;
    std::multiset<std::string> lines;
    for (auto& l : split_lines(out))
      if (l.find("TETHER") != std::string::npos) lines.insert(l);
    return lines;
  }

  std::string table_names(const char* file = "ip_tables_names") {
    std::string out;
    host().exec(std::string("cat /proc/net/") + file, &out);
    return out;
  }

  // Every -A line must be found byte-for-byte by the CLI.
  void expect_cli_finds_each(const std::multiset<std::string>& lines, const char* tool) {
    for (const auto& l : lines) {
      if (l.rfind("-A ", 0) != 0) continue;
      std::string out;
      EXPECT_EQ(host().exec(std::string(tool) + "-legacy -w -t nat -C " + l.substr(3), &out), 0) << l << "\n" << out;
    }
  }

  static NatPlan plan(const std::string& cid, std::vector<const char*> ips, bool masq, std::vector<PortMapping> maps,
                      const std::string& network = "net1") {
    NatPlan p;
    p.key = {network, cid, "eth0"};
    p.ip_masq = masq;
    for (const char* ip : ips) p.container_ips.push_back(*net::IpPrefix::parse(ip));
    p.port_mappings = std::move(maps);
    return p;  // no bridge: route_localnet is covered by the traffic test
  }

  // What the save output must contain for exactly these plans (skeleton included).
  static std::multiset<std::string> expected_lines(const std::vector<NatPlan>& plans, net::Family family) {
    std::multiset<std::string> out;
    std::set<std::string> network_rules;  // shared by the attachments of one network: once each
    bool hostports = false, postrouting = false;
    for (const auto& p : plans)
      for (const auto& fr : nat_rules(p)) {
        if (fr.family != family) continue;
        hostports |= fr.hostports;
        postrouting |= fr.postrouting;
        for (const auto& r : fr.rules) out.insert(iptables::to_save_line(r.chain, r.spec));
        for (const auto& r : fr.network_rules) network_rules.insert(iptables::to_save_line(r.chain, r.spec));
      }
    out.insert(network_rules.begin(), network_rules.end());
    if (hostports) {
      out.insert(std::string(":") + kHostportsChain + " - [0:0]");
      for (const auto& j : hostports_jumps(family)) out.insert(iptables::to_save_line(j.from, j.spec));
    }
    if (postrouting) {
      out.insert(std::string(":") + kPostroutingChain + " - [0:0]");
      const auto j = postrouting_jump(family);
      out.insert(iptables::to_save_line(j.from, j.spec));
      for (const auto& s : postrouting_shared_rules(family)) out.insert(iptables::to_save_line(kPostroutingChain, s));
    }
    return out;
  }

  std::string lock_path_;
  std::unique_ptr<Firewall> fw_;
};

const std::vector<PortMapping> kMaps = {{8080, 80, net::L4Proto::Tcp, {}},
                                        {5353, 53, net::L4Proto::Udp, net::IpAddress::parse("10.1.1.1")},
                                        {9000, 9001, net::L4Proto::Sctp, {}},
                                        {8443, 443, net::L4Proto::Tcp, net::IpAddress::parse("fd01::1")}};

TEST_F(FirewallIptablesTest, AddWritesExactRulesTheCliRecognises) {
  const NatPlan p = plan("ctr-a", {"10.77.0.2/24", "fd77::2/64"}, true, kMaps);
  in_host([&] { fw_->add(p); });

  const auto v4 = tether_lines("iptables");
  EXPECT_EQ(v4, expected_lines({p}, net::Family::V4));
  expect_cli_finds_each(v4, "iptables");
  const auto v6 = tether_lines("ip6tables");
  EXPECT_EQ(v6, expected_lines({p}, net::Family::V6));
  expect_cli_finds_each(v6, "ip6tables");
  // Spot checks against hand-written text (not derived from our own printer).
  EXPECT_TRUE(v4.count("-A TETHER-HOSTPORTS -d 10.1.1.1/32 -p udp -m udp --dport 5353 -m comment --comment \"" +
                       attachment_comment(p.key) + "\" -j DNAT --to-destination 10.77.0.2:53"));
  EXPECT_TRUE(v6.count("-A TETHER-HOSTPORTS -d fd01::1/128 -p tcp -m tcp --dport 8443 -m comment --comment \"" +
                       attachment_comment(p.key) + "\" -j DNAT --to-destination [fd77::2]:443"));

  in_host([&] { EXPECT_NO_THROW(fw_->check(p)); });
}

TEST_F(FirewallIptablesTest, AddAgainReplacesAndDelRemovesEverything) {
  const NatPlan a = plan("ctr-a", {"10.77.0.2/24", "fd77::2/64"}, true, kMaps);
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, true, {{8081, 80, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(a);
    fw_->add(a);  // same key again: replaced, not duplicated
    fw_->add(b);
  });
  EXPECT_EQ(tether_lines(), expected_lines({a, b}, net::Family::V4));
  EXPECT_EQ(tether_lines("ip6tables"), expected_lines({a}, net::Family::V6));
  // Order inside TETHER-POSTROUTING: the shared rules (localhost, never-multicast) come first.
  std::string out;
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -S TETHER-POSTROUTING", &out), 0) << out;
  const auto rules = split_lines(out);
  ASSERT_GE(rules.size(), 5u) << out;
  EXPECT_NE(rules[1].find("tether:shared localhost"), std::string::npos) << out;
  EXPECT_NE(rules[2].find("tether:shared hairpin"), std::string::npos) << out;
  EXPECT_NE(rules[3].find("tether:shared multicast"), std::string::npos) << out;
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -S TETHER-HOSTPORTS", &out), 0) << out;
  EXPECT_NE(split_lines(out).at(1).find("-j MARK"), std::string::npos) << out;  // hairpin mark before DNATs
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -S PREROUTING", &out), 0) << out;
  EXPECT_NE(split_lines(out).at(1).find("-j TETHER-HOSTPORTS"), std::string::npos) << out;  // jump is first

  in_host([&] { fw_->del(a.key); });
  EXPECT_EQ(tether_lines(), expected_lines({b}, net::Family::V4));
  EXPECT_TRUE(tether_lines("ip6tables").empty());  // last v6 user gone: chains and jumps too

  in_host([&] {
    fw_->del(b.key);
    fw_->del(b.key);  // repeated DEL is fine
    fw_->del(AttachmentKey{"other", "never-added", "eth0"});
  });
  EXPECT_TRUE(tether_lines().empty());
  EXPECT_TRUE(tether_lines("ip6tables").empty());
}

TEST_F(FirewallIptablesTest, IdleCallsDoNotCreateTables) {
  in_host([&] {
    fw_->add(plan("ctr-a", {"10.77.0.2/24"}, false, {}));  // nothing to do
    fw_->del({"net1", "ctr-a", "eth0"});
    fw_->gc("net1", {});
  });
  EXPECT_EQ(table_names("ip_tables_names"), "");  // no iptc_init happened (it would create "nat")
  EXPECT_EQ(table_names("ip6_tables_names"), "");
}

TEST_F(FirewallIptablesTest, CheckNamesTheMissingRule) {
  const NatPlan p = plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] { fw_->add(p); });
  std::string masq;
  for (const auto& l : tether_lines())
    if (l.find("-j MASQUERADE") != std::string::npos && l.find("! -d 10.77.0.0/24") != std::string::npos) masq = l;
  ASSERT_FALSE(masq.empty());
  // A CHECK whose runtimeConfig lacks the mappings accepts the network's masquerade.
  NatPlan without_maps = p;
  without_maps.port_mappings.clear();
  in_host([&] { EXPECT_NO_THROW(fw_->check(without_maps)); });
  std::string out;
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -D " + masq.substr(3), &out), 0) << out;
  in_host([&] { EXPECT_THROW(fw_->check(without_maps), Error); });
  in_host([&] {
    try {
      fw_->check(p);
      ADD_FAILURE() << "check passed with a rule missing";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("! -d 10.77.0.0/24"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("ctr-a"), std::string::npos) << e.what();
    }
  });
}

TEST_F(FirewallIptablesTest, GcRemovesOnlyInvalidAttachmentsOfTheNetwork) {
  const NatPlan a = plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, true, {{8081, 80, net::L4Proto::Udp, {}}});
  const NatPlan c = plan("ctr-c", {"fd77::4/64"}, true, {});
  const NatPlan other = plan("ctr-b", {"10.78.0.3/24"}, true, {}, "net2");  // same cid, other network
  in_host([&] {
    for (const auto* p : {&a, &b, &c, &other}) fw_->add(*p);
    fw_->gc("net1", {AttachmentKey{"", "ctr-a", "eth0"}});
  });
  EXPECT_EQ(tether_lines(), expected_lines({a, other}, net::Family::V4));
  EXPECT_TRUE(tether_lines("ip6tables").empty());
  in_host([&] { fw_->gc("net2", {}); });
  EXPECT_EQ(tether_lines(), expected_lines({a}, net::Family::V4));
}

TEST_F(FirewallIptablesTest, ForeignRulesInBuiltinChainsSurvive) {
  std::string out;
  ASSERT_EQ(host().exec("iptables-legacy -w -t nat -A POSTROUTING -s 10.99.0.0/24 -j MASQUERADE && "
                        "iptables-legacy -w -t nat -N FOREIGN && iptables-legacy -w -t nat -A PREROUTING -j FOREIGN",
                        &out),
            0)
      << out;
  const NatPlan p = plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(p);
    fw_->del(p.key);
  });
  ASSERT_EQ(host().exec("iptables-legacy-save -t nat", &out), 0);
  EXPECT_EQ(out.find("TETHER"), std::string::npos) << out;
  EXPECT_NE(out.find("-A POSTROUTING -s 10.99.0.0/24 -j MASQUERADE"), std::string::npos) << out;
  EXPECT_NE(out.find("-A PREROUTING -j FOREIGN"), std::string::npos) << out;
}

TEST_F(FirewallIptablesTest, BusyLockFailsWithCode11AfterBoundedWait) {
  const int fd = ::open(lock_path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // another open file description: we really compete
  const NatPlan p = plan("ctr-a", {"10.77.0.2/24"}, true, {});
  const auto t0 = std::chrono::steady_clock::now();
  in_host([&] {
    try {
      fw_->add(p);
      ADD_FAILURE() << "add succeeded while the xtables lock was held";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 11) << e.what();
      EXPECT_NE(std::string(e.what()).find(lock_path_), std::string::npos) << e.what();
    }
  });
  // The add gave up (code 11) while our description still held the lock: a bounded wait, not a
  // queue behind the holder; and it did wait first. How long it took is recorded, not bounded.
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(4500));
  RecordProperty("busy_lock_wait_ms",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()));
  ::close(fd);
  EXPECT_TRUE(tether_lines().empty());  // the failed ADD left nothing
  in_host([&] { fw_->add(p); });        // and works once the lock is free
  EXPECT_EQ(tether_lines(), expected_lines({p}, net::Family::V4));
}

TEST_F(FirewallIptablesTest, DelOfAnUnknownKeyDoesNotQueueBehindABusyLock) {
  const NatPlan p = plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] { fw_->add(p); });
  const int fd = ::open(lock_path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  // We hold the lock throughout: a del/gc that queued for it would throw code 11 after the 5 s wait.
  const auto t0 = std::chrono::steady_clock::now();
  in_host([&] {
    EXPECT_NO_THROW(fw_->del({"net1", "never-added", "eth0"}));              // decided from a lock-free snapshot
    EXPECT_NO_THROW(fw_->gc("net1", {AttachmentKey{"", "ctr-a", "eth0"}}));  // nothing invalid
  });
  const auto took = std::chrono::steady_clock::now() - t0;
  RecordProperty("del_unknown_with_lock_busy_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  // A DEL that has something to remove waits for the lock instead (and here gives up: code 11).
  in_host([&] {
    try {
      fw_->del(p.key);
      ADD_FAILURE() << "removed rules without the lock";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 11) << e.what();
    }
  });
  ::close(fd);
  EXPECT_EQ(tether_lines(), expected_lines({p}, net::Family::V4));
  in_host([&] { fw_->del(p.key); });
  EXPECT_TRUE(tether_lines().empty());
}

}  // namespace
}  // namespace tether::firewall
