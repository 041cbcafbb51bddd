// Fail the N-th kernel or store operation of an ADD (fault::point, compiled in through
// TETHER_FAULT_SEAM), for every N, and check that the rollback leaves nothing: no veth, no
// container interface, no lease, no TETHER rule, no bridge address that was not there before, no
// bridge if this ADD created it. The ADD runs in process inside the fake host netns, with the real
// iptables firewall (ipMasq + a port mapping) and tether-ipam in process.

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/in_process.hpp"
#include "fixture/netns_fixture.hpp"
#include "lib/net/ip.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/error.hpp"
#include "lib/util/fault.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/plugin.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
constexpr const char* kBridge = "ttfi0";

// What an ADD may leave behind, read back from the kernel and the disk.
struct Snapshot {
  std::vector<std::string> host_links;
  std::vector<std::string> ctr_links;
  std::vector<std::string> bridge_addrs;
  std::vector<std::string> tether_rules;
  std::size_t leases = 0;
  bool operator==(const Snapshot&) const = default;
};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "\n    " + s;
  return out;
}

std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  return os << "\n  host links:" << join(s.host_links) << "\n  container links:" << join(s.ctr_links)
            << "\n  bridge addresses:" << join(s.bridge_addrs)
            << "\n  firewall rules and state:" << join(s.tether_rules) << "\n  leases: " << s.leases;
}

class FaultInjectionTest : public NetnsTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    host_ns_.emplace(netns::Netns::open(host().path()));
    fault::disarm();
  }
  void TearDown() override {
    fault::disarm();
    host_ns_.reset();
    NetnsTest::TearDown();
  }

  cni::Request request(cni::Command cmd, const std::string& id, const std::string& netns, int host_port) {
    json c = {{"cniVersion", "1.1.0"},
              {"name", "finet"},
              {"type", "tether"},
              {"bridge", kBridge},
              {"isDefaultGateway", true},
              {"ipMasq", true},
              {"firewallBackend", backend()},
              {"stateDir", data_dir_ + "/.state"},
              {"hairpinMode", true},
              {"portIsolation", true},
              {"capabilities", {{"portMappings", true}}},
              {"runtimeConfig",
               {{"portMappings",
                 json::array({{{"hostPort", host_port}, {"containerPort", 80}, {"protocol", "tcp"}}})}}},
              {"ipam",
               {{"type", "tether-ipam"},
                {"dataDir", data_dir_},
                {"ranges", json::parse(R"([[{"subnet":"10.77.0.0/24"}],[{"subnet":"fd00:77::/64"}]])")}}}};
    if (!forward_accept_) c["forwardAccept"] = false;
    return make_request(c, cmd, id, netns);
  }
  plugin::Deps deps() {
    plugin::Deps d;
    d.make_firewall = plugin::make_firewall;
    return d;
  }
  cni::Result add(const std::string& id, TestNetns& ctr, int host_port) {
    netns::NetnsGuard g(*host_ns_);
    return plugin::cmd_add(request(cni::Command::Add, id, ctr.path(), host_port), deps());
  }
  void del(const std::string& id, TestNetns& ctr, int host_port) {
    netns::NetnsGuard g(*host_ns_);
    plugin::cmd_del(request(cni::Command::Del, id, ctr.path(), host_port), deps());
  }

  std::vector<std::string> bridge_addrs() {
    std::string out;
    if (host().exec(std::string("ip -j addr show dev ") + kBridge + " 2>/dev/null", &out) != 0) return {};
    std::vector<std::string> addrs;
    for (const auto& l : json::parse(out))
      for (const auto& a : l["addr_info"])
        addrs.push_back(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
    std::sort(addrs.begin(), addrs.end());
    return addrs;
  }
  // The racing-bridge test is not about the firewall: it runs on the default backend.
  const char* backend() const { return GetParam() ? GetParam() : "auto"; }
  // Rules and state files (a rollback removes both).
  std::vector<std::string> tether_rules() {
    std::vector<std::string> lines = tether_firewall(host());
    for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir_ + "/.state", ec_))
      if (e.is_regular_file() && e.path().filename().string()[0] != '.') lines.push_back("state: " + e.path().string());
    return lines;
  }
  std::size_t leases() { return count_leases(data_dir_ + "/finet"); }
  std::string host_nft(const std::string& args) {
    std::string out;
    EXPECT_EQ(host().exec("nft " + args + " 2>&1", &out), 0) << out;
    return out;
  }
  Snapshot snapshot(TestNetns& ctr) {
    return {link_names(host()), link_names(ctr), bridge_addrs(), tether_rules(), leases()};
  }

  // One successful ADD (then DEL) with counting on: the number of operations K of an ADD from
  // this state. `drop_bridge`: the ADD created the bridge, remove it to restore the state.
  int count_operations(TestNetns& ctr, bool drop_bridge) {
    fault::arm(0);
    add("probe", ctr, 30999);
    const int k = fault::count();
    del("probe", ctr, 30999);
    if (drop_bridge) {
      EXPECT_EQ(host().exec(std::string("ip link del ") + kBridge), 0);
    }
    return k;
  }

  // For N = 1..K: the N-th operation fails, the ADD fails with it, and the state is as before.
  void fail_each_operation(TestNetns& ctr, int k, const Snapshot& before) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string ops;  // what each N hit, for the log
    for (int n = 1; n <= k; ++n) {
      SCOPED_TRACE("fault at operation #" + std::to_string(n) + " of " + std::to_string(k));
      fault::arm(n);
      bool failed = false;
      try {
        add("victim", ctr, 31000);
      } catch (const Error& e) {
        failed = true;
        EXPECT_THAT(e.what(), HasSubstr("injected fault at operation #" + std::to_string(n) + " "));
        const std::string what = e.what();
        const auto open = what.find(" (", what.find("injected fault"));
        ops += "\n  #" + std::to_string(n) + " " + (open == std::string::npos ? what : what.substr(open + 1));
      }
      fault::disarm();
      if (!failed) {
        ADD_FAILURE() << "ADD succeeded despite the fault (" << fault::count() << " operations seen)";
        del("victim", ctr, 31000);
      }
      EXPECT_EQ(snapshot(ctr), before);
    }
    std::cout << "[ fault ] " << k << " operations, each failed once, in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s:" << ops << "\n";
  }

  std::string data_dir_;
  bool forward_accept_ = true;
  std::error_code ec_;
  std::optional<netns::Netns> host_ns_;
};

TEST_P(FaultInjectionTest, EveryOperationOnNewBridgeLeavesNothing) {
  TestNetns& ctr = add_container();
  const Snapshot before = snapshot(ctr);
  ASSERT_EQ(before.host_links, std::vector<std::string>{"lo"});
  // A first ADD flips one-time host state (ip_forward), so the second one counts the steady K.
  count_operations(ctr, true);
  const int k = count_operations(ctr, true);
  ASSERT_EQ(snapshot(ctr), before);
  ASSERT_GE(k, 10) << "the seam must see the netlink, sysctl, IPAM and iptables operations";
  fail_each_operation(ctr, k, before);
  RecordProperty("operations", k);
}

TEST_P(FaultInjectionTest, EveryOperationOnSharedBridgeKeepsOthers) {
  TestNetns& a = add_container("a");
  TestNetns& b = add_container("b");
  cni::Result ra = add("keeper", a, 30001);
  const Snapshot before = snapshot(b);
  ASSERT_EQ(before.leases, 2u);
  ASSERT_FALSE(before.bridge_addrs.empty());
  ASSERT_FALSE(before.tether_rules.empty());
  count_operations(b, false);
  const int k = count_operations(b, false);
  ASSERT_EQ(snapshot(b), before);
  ASSERT_GE(k, 8);
  fail_each_operation(b, k, before);
  RecordProperty("operations", k);
  // The bystander still works and still leaves cleanly.
  std::string out;
  EXPECT_EQ(a.exec("ping -c1 -W2 10.77.0.1", &out), 0) << out;
  EXPECT_THAT(link_names(a), ::testing::ElementsAre("eth0", "lo"));
  del("keeper", a, 30001);
  EXPECT_EQ(leases(), 0u);
  EXPECT_TRUE(tether_rules().empty()) << join(tether_rules());
}

// Another ADD created the bridge, failed, and removed it again right after we adopted it: the veth
// request then names a master that is gone. The ADD must ensure the bridge again and succeed.
class BridgeRaceTest : public FaultInjectionTest {};

TEST_P(BridgeRaceTest, BridgeRemovedByRacingRollbackIsEnsuredAgain) {
  TestNetns& ctr = add_container();
  const std::string host_name = host().name();
  bool removed = false;
  fault::observe([&](const char* op) {
    if (!removed && std::string_view(op) == "netlink: add veth") {
      removed = true;
      ASSERT_EQ(shell("ip -n " + host_name + " link del " + kBridge), 0);
    }
  });
  cni::Result r;
  try {
    r = add("race", ctr, 30998);
  } catch (...) {
    fault::observe({});
    throw;
  }
  fault::observe({});
  ASSERT_TRUE(removed) << "the seam never reached the veth request";
  std::string out;
  host().exec(std::string("ip -j link show master ") + kBridge, &out);
  EXPECT_THAT(out, HasSubstr(r.interfaces[1].name));
  EXPECT_EQ(ctr.exec("ping -c1 -W2 10.77.0.1", &out), 0) << out;
  del("race", ctr, 30998);
}

// "One nftables batch per ADD/DEL", counted at the seam every commit passes (a batch the kernel
// refuses counts too): a node's first ADD (no table of ours yet: the skeleton, the elements and
// the network's accepts in iptables-nft's filter table, where a FORWARD policy drop lives), an
// ADD beside it, and both DELs.
class NftablesBatchCountTest : public FaultInjectionTest {
 protected:
  template <class F>
  int batches(F&& verb) {
    int n = 0;
    fault::observe([&](const char* op) { n += std::string_view(op) == "nftables: batch"; });
    try {
      verb();
    } catch (...) {
      fault::observe({});
      throw;
    }
    fault::observe({});
    return n;
  }
  std::string host_sh(const std::string& cmd) {
    std::string out;
    EXPECT_EQ(host().exec(cmd + " 2>&1", &out), 0) << cmd << "\n" << out;
    return out;
  }
};

TEST_P(NftablesBatchCountTest, OneBatchPerAddAndDel) {
  host_sh("iptables-nft -P FORWARD DROP && ip6tables-nft -P FORWARD DROP");
  TestNetns& a = add_container("a");
  TestNetns& b = add_container("b");
  EXPECT_EQ(batches([&] { add("first", a, 30001); }), 1) << "fresh node";
  EXPECT_THAT(host_nft("list table ip tether"), HasSubstr("chain postrouting"));
  for (const char* save : {"iptables-nft-save", "ip6tables-nft-save"})
    EXPECT_THAT(host_sh(save), HasSubstr("-A TETHER-FORWARD")) << save << ": the accepts came in the same batch";
  EXPECT_EQ(batches([&] { add("second", b, 30002); }), 1) << "steady state";
  EXPECT_EQ(batches([&] { del("second", b, 30002); }), 1);
  EXPECT_EQ(batches([&] { del("first", a, 30001); }), 1) << "the last DEL takes the tables";
  EXPECT_TRUE(tether_rules().empty()) << join(tether_rules());
  EXPECT_THAT(host_sh("iptables-nft-save"), ::testing::Not(HasSubstr("TETHER"))) << "the accepts went with the network";
  // Without accepts nothing is read but our table's GET: still one batch on a fresh node.
  forward_accept_ = false;
  EXPECT_EQ(batches([&] { add("third", a, 30003); }), 1) << "fresh node, forwardAccept false";
  EXPECT_THAT(host_sh("iptables-nft-save"), ::testing::Not(HasSubstr("TETHER")));
  EXPECT_EQ(batches([&] { del("third", a, 30003); }), 1);
  EXPECT_TRUE(tether_rules().empty()) << join(tether_rules());
}

INSTANTIATE_TEST_SUITE_P(Backends, FaultInjectionTest, ::testing::ValuesIn(kBackends), backend_test_name);
INSTANTIATE_TEST_SUITE_P(Nftables, NftablesBatchCountTest, ::testing::Values("nftables"));
INSTANTIATE_TEST_SUITE_P(DefaultBackend, BridgeRaceTest, ::testing::Values(nullptr));

}  // namespace
}  // namespace tether::testing
