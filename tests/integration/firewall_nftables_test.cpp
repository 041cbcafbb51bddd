// The nftables firewall backend against a real (throwaway) netns: everything is read back from
// the kernel with the nft CLI (text, JSON and the bytecode nft itself would emit), DEL/GC leave
// nothing behind, conflicts fail atomically, concurrent writers stay consistent.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/nftables_firewall.hpp"
#include "lib/netns/netns.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {
namespace {

using nlohmann::json;
using testing::NetnsTest;
using testing::TestNetns;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

class FirewallNftablesTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    fw_ = make_nftables_firewall();
  }
  template <class F>
  void in_host(F&& f) {
    netns::NetnsGuard guard(netns::Netns::open(host().path()));
    f();
  }
  std::string nft(const std::string& args, const TestNetns* ns = nullptr) {
    std::string out;
    EXPECT_EQ((ns ? *ns : host()).exec("nft " + args + " 2>&1", &out), 0) << "nft " << args << "\n" << out;
    return out;
  }
  json ruleset() { return json::parse(nft("-j list ruleset")); }
  // "ip tether", "ip6 tether", ... from the JSON listing.
  std::set<std::string> tables() {
    std::set<std::string> out;
    const json rs = ruleset();
    for (const auto& o : rs.at("nftables"))
      if (o.contains("table")) out.insert(o["table"]["family"].get<std::string>() + " " + o["table"]["name"].get<std::string>());
    return out;
  }
  // Chains, rules (as "chain: comment") and elements of tether's tables, from the JSON listing.
  std::multiset<std::string> objects() {
    std::multiset<std::string> out;
    const json rs = ruleset();
    for (const auto& o : rs.at("nftables")) {
      if (o.contains("chain")) out.insert("chain " + o["chain"]["family"].get<std::string>() + " " + o["chain"]["name"].get<std::string>());
      if (o.contains("rule")) out.insert("rule " + o["rule"]["family"].get<std::string>() + " " + o["rule"]["chain"].get<std::string>());
      if (o.contains("map") && o["map"].contains("elem"))
        for (const auto& e : o["map"]["elem"]) out.insert("elem " + o["map"]["family"].get<std::string>() + " " + o["map"]["name"].get<std::string>() + " " + e.dump());
    }
    return out;
  }
  static NatPlan plan(const std::string& cid, std::vector<const char*> ips, bool masq, std::vector<PortMapping> maps,
                      const std::string& network = "net1") {
    NatPlan p;
    p.key = {network, cid, "eth0"};
    p.ip_masq = masq;
    for (const char* ip : ips) p.container_ips.push_back(*net::IpPrefix::parse(ip));
    p.port_mappings = std::move(maps);
    return p;
  }
  static NatPlan example() {
    return plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, {}}, {8081, 81, net::L4Proto::Tcp, net::IpAddress::parse("10.1.1.1")}});
  }
  std::unique_ptr<NftablesFirewall> fw_;
};

// What `nft list table ip tether` must print for example(); H = attachment hash, C = comment.
const char* kExpectedV4 = R"(table ip tether {
	comment "managed by tether"
	map hostports {
		type inet_proto . inet_service : verdict
		elements = { tcp . 8080 comment "C" : goto att-H-dnat,
			     udp . 5353 comment "C" : goto att-H-dnat }
	}

	map hostip_hostports {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 10.1.1.1 . tcp . 8081 comment "C" : goto att-H-dnat }
	}

	map masq {
		type ipv4_addr : verdict
		elements = { 10.77.0.2 comment "C" : goto att-H-masq }
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local ip daddr . meta l4proto . th dport vmap @hostip_hostports
		fib daddr type local meta l4proto . th dport vmap @hostports
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local ip daddr . meta l4proto . th dport vmap @hostip_hostports
		fib daddr type local meta l4proto . th dport vmap @hostports
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname != "lo" ip saddr 127.0.0.0/8 masquerade
		oifname != "lo" meta mark & 0x00002000 == 0x00002000 masquerade
		ip daddr 224.0.0.0/4 return
		ip saddr vmap @masq
	}

	chain att-H-dnat {
		comment "C"
		ip saddr 10.77.0.0/24 meta mark set meta mark | 0x00002000 comment "C"
		tcp dport 8080 dnat to 10.77.0.2:80 comment "C"
		udp dport 5353 dnat to 10.77.0.2:53 comment "C"
		ip daddr 10.1.1.1 tcp dport 8081 dnat to 10.77.0.2:81 comment "C"
	}

	chain att-H-masq {
		comment "C"
		ip saddr 10.77.0.2 ip daddr != 10.77.0.0/24 masquerade comment "C"
	}
}
)";

std::string expected_v4(const NatPlan& p) {
  return replace_all(replace_all(kExpectedV4, "att-H-", "att-" + attachment_hash(p.key) + "-"), "\"C\"",
                     "\"" + attachment_comment(p.key) + "\"");
}

TEST_F(FirewallNftablesTest, AddWritesTheExpectedTable) {
  const NatPlan p = example();
  in_host([&] { fw_->add(p); });
  EXPECT_EQ(nft("list table ip tether"), expected_v4(p));
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether"}));  // v4-only plan: no ip6 table
  in_host([&] { EXPECT_NO_THROW(fw_->check(p)); });
}

TEST_F(FirewallNftablesTest, BytecodeIsWhatNftEmitsForTheSameText) {
  // Load the expected text with nft itself into a second netns and compare what the kernel holds
  // (nft --debug=netlink prints the expressions, element bytes and userdata it reads back).
  const NatPlan p = example();
  in_host([&] { fw_->add(p); });
  TestNetns& ref = add_container("ref");
  std::string out;
  ASSERT_EQ(ref.exec("nft -f - <<'EOF'\n" + expected_v4(p) + "EOF\n", &out), 0) << out;
  auto normalize = [](const std::string& text) {
    // Handles differ (creation order); element order within a map dump is the hash table's.
    std::multiset<std::string> lines;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(at, end - at);
      // "ip tether <chain> <handle> [<position>]": drop the numbers.
      if (line.rfind("ip tether ", 0) == 0)
        while (!line.empty() && line.find_last_not_of("0123456789 ") < line.find_last_of(' ') &&
               line.substr(line.find_last_of(' ') + 1).find_first_not_of("0123456789") == std::string::npos)
          line.resize(line.find_last_of(' '));
      lines.insert(line);
      at = end + 1;
    }
    return lines;
  };
  const auto ours = normalize(nft("--debug=netlink list table ip tether"));
  const auto nfts = normalize(nft("--debug=netlink list table ip tether", &ref));
  EXPECT_EQ(ours, nfts);
  EXPECT_GT(ours.size(), 60u);  // really a bytecode dump
}

TEST_F(FirewallNftablesTest, JsonListingParsesAndCommentsNameTheContainer) {
  NatPlan p = example();
  p.key.container_id = std::string(64, 'f');  // a real-length container ID still fits
  p.container_ips.push_back(*net::IpPrefix::parse("fd77::2/64"));
  in_host([&] { fw_->add(p); });
  const json rs = ruleset();
  int rules = 0;
  for (const auto& o : rs.at("nftables")) {
    if (!o.contains("rule") || o["rule"]["chain"].get<std::string>().rfind("att-", 0) != 0) continue;
    ++rules;
    const std::string c = o["rule"].at("comment");
    EXPECT_NE(c.find("net=net1"), std::string::npos) << c;
    EXPECT_NE(c.find("id=" + p.key.container_id), std::string::npos) << c;
    EXPECT_LE(c.size(), 128u);
  }
  EXPECT_EQ(rules, 5 + 4);  // v4: hairpin + 3 DNAT + masq; v6: hairpin + 2 DNAT + masq
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether", "ip6 tether"}));
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find("unknown"), std::string::npos) << text;
  EXPECT_NE(text.find("tcp dport 8080 dnat to [fd77::2]:80"), std::string::npos) << text;
  // The host's iptables-nft still works beside our tables.
  std::string out;
  EXPECT_EQ(host().exec("iptables-nft-save && ip6tables-nft-save && iptables-nft -t nat -L -n", &out), 0) << out;
  EXPECT_EQ(out.find("incompatible"), std::string::npos) << out;
}

TEST_F(FirewallNftablesTest, DelRemovesEverythingAndIsRepeatable) {
  const NatPlan a = example();
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24", "fd77::3/64"}, true, {{9090, 90, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(a);
    fw_->add(b);
  });
  in_host([&] { fw_->del(a.key); });
  EXPECT_EQ(nft("list table ip tether").find(attachment_hash(a.key)), std::string::npos);
  in_host([&] { EXPECT_NO_THROW(fw_->check(b)); });
  in_host([&] {
    fw_->del(a.key);  // again: nothing there
    fw_->del(b.key);  // the last one takes the tables with it
    fw_->del(b.key);
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, IdleCallsCreateNothing) {
  in_host([&] {
    fw_->add(plan("ctr-a", {"10.77.0.2/24"}, false, {}));  // nothing to do
    fw_->del({"net1", "ctr-a", "eth0"});
    fw_->gc("net1", {});
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, AddAgainReplaces) {
  NatPlan a = plan("ctr-a", {"10.77.0.2/24", "fd77::2/64"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] { fw_->add(a); });
  a.port_mappings = {{8082, 82, net::L4Proto::Udp, {}}};
  a.container_ips = {*net::IpPrefix::parse("10.77.0.9/24")};  // v4 only now
  in_host([&] { fw_->add(a); });
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find("8080"), std::string::npos) << text;
  EXPECT_NE(text.find("udp . 8082"), std::string::npos) << text;
  EXPECT_NE(text.find("10.77.0.9 comment"), std::string::npos) << text;
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether"}));  // the v6 leftovers went with their table
  in_host([&] { EXPECT_NO_THROW(fw_->check(a)); });
  in_host([&] { fw_->del(a.key); });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, PortOfAnotherAttachmentFailsAtomically) {
  const NatPlan a = example();
  in_host([&] { fw_->add(a); });
  const std::string before = nft("list ruleset");
  NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, true, {{9999, 99, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, {}}});
  in_host([&] {
    try {
      fw_->add(b);
      ADD_FAILURE() << "a taken port was mapped again";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 999);
      const std::string msg = e.what();
      EXPECT_NE(msg.find("udp . 5353"), std::string::npos) << msg;
      EXPECT_NE(msg.find("id=ctr-a"), std::string::npos) << msg;  // names the owner
    }
  });
  EXPECT_EQ(nft("list ruleset"), before);  // nothing of b: not its chains, not port 9999
  // The same port on another hostIP, or the other protocol, is fine.
  b.port_mappings = {{5353, 53, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, net::IpAddress::parse("10.1.1.2")}};
  in_host([&] { EXPECT_NO_THROW(fw_->add(b)); });
}

TEST_F(FirewallNftablesTest, RepeatedDelLeavesAPortTakenOverMeanwhile) {
  const NatPlan a = plan("ctr-a", {"10.77.0.2/24"}, false, {{8080, 80, net::L4Proto::Tcp, {}}});
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, false, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(a);
    fw_->del(a.key);
    fw_->add(b);
    fw_->del(a.key);  // a's DEL again: b's element is not a's any more
    EXPECT_NO_THROW(fw_->check(b));
  });
}

TEST_F(FirewallNftablesTest, GcRemovesOnlyInvalidAttachmentsOfTheNetwork) {
  const NatPlan a = plan("ctr-a", {"10.77.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, true, {{8081, 80, net::L4Proto::Udp, {}}});
  const NatPlan c = plan("ctr-c", {"fd77::4/64"}, true, {});
  const NatPlan other = plan("ctr-b", {"10.78.0.3/24"}, true, {}, "net2");  // same cid, other network
  in_host([&] {
    for (const auto* p : {&a, &b, &c, &other}) fw_->add(*p);
    fw_->gc("net1", {AttachmentKey{"", "ctr-a", "eth0"}});
    EXPECT_NO_THROW(fw_->check(a));
    EXPECT_NO_THROW(fw_->check(other));
    EXPECT_THROW(fw_->check(b), Error);
  });
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find(attachment_hash(b.key)), std::string::npos) << text;
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether"}));  // c was the only v6 user
  in_host([&] {
    fw_->gc("net2", {});
    fw_->gc("net1", {});
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, CheckNamesWhatIsMissing) {
  const NatPlan p = example();
  in_host([&] { EXPECT_THROW(fw_->check(p), Error); });  // nothing there
  in_host([&] { fw_->add(p); });
  nft("'delete element ip tether hostports { udp . 5353 }'");
  in_host([&] {
    try {
      fw_->check(p);
      ADD_FAILURE() << "check passed with an element missing";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), 999);
      EXPECT_NE(std::string(e.what()).find("udp . 5353"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("ctr-a"), std::string::npos) << e.what();
    }
  });
}

TEST_F(FirewallNftablesTest, DelCopesWithARuleDeletedByHand) {
  // Without the rule DEL cannot derive the element's key; the chain delete then fails (EBUSY,
  // still referenced) and DEL falls back to scanning the maps.
  const NatPlan p = example();
  in_host([&] { fw_->add(p); });
  const std::string chain = "att-" + attachment_hash(p.key) + "-dnat";
  const json rs = ruleset();
  for (const auto& o : rs.at("nftables"))
    if (o.contains("rule") && o["rule"]["chain"] == chain && o["rule"].dump().find("8081") != std::string::npos)
      nft("delete rule ip tether " + chain + " handle " + std::to_string(o["rule"]["handle"].get<int>()));
  ASSERT_EQ(nft("list chain ip tether " + chain).find("8081"), std::string::npos);
  in_host([&] { fw_->del(p.key); });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, ForeignTablesAndObjectsSurvive) {
  nft("'add table ip foreign; add chain ip foreign fw { type filter hook forward priority 0; policy accept; }'");
  const NatPlan p = example();
  in_host([&] { fw_->add(p); });
  nft("add chain ip tether admin-extra");  // someone else's object in our table: keeps it alive
  in_host([&] { fw_->del(p.key); });
  EXPECT_EQ(tables(), (std::set<std::string>{"ip foreign", "ip tether"}));
  EXPECT_EQ(nft("list table ip tether").find("att-"), std::string::npos);
}

TEST_F(FirewallNftablesTest, ProbeSeesNftables) {
  in_host([&] { EXPECT_TRUE(nftables::kernel_has_nftables()); });
  EXPECT_TRUE(tables().empty());  // the probe created nothing
}

TEST_F(FirewallNftablesTest, ConcurrentAddDelStaysConsistent) {
  // 16 writers, each its own Firewall and thread (setns is per thread), each ADD/DEL-ing its own
  // attachment; half of them end with their attachment in place.
  constexpr int kThreads = 16, kRounds = 8;
  std::atomic<int> failures{0};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  const std::string ns = host().path();
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        netns::NetnsGuard guard(netns::Netns::open(ns));
        auto fw = make_nftables_firewall();
        const std::string ip4 = "10.77." + std::to_string(t) + ".2/24", ip6 = "fd77:" + std::to_string(t) + "::2/64";
        NatPlan p = plan("ctr-" + std::to_string(t), {ip4.c_str(), ip6.c_str()}, true,
                         {{static_cast<std::uint16_t>(10000 + t), 80, net::L4Proto::Tcp, {}}, {static_cast<std::uint16_t>(20000 + t), 53, net::L4Proto::Udp, {}}});
        for (int r = 0; r < kRounds; ++r) {
          fw->add(p);
          if (r % 3 == 1) fw->add(p);  // replace in the middle of the storm
          fw->del(p.key);
        }
        if (t % 2 == 0) fw->add(p);
      } catch (const std::exception& e) {
        errors[t] = e.what();
        ++failures;
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
  ASSERT_EQ(failures, 0);
  // Exactly the even attachments are left, complete.
  in_host([&] {
    for (int t = 0; t < kThreads; t += 2) {
      const std::string ip4 = "10.77." + std::to_string(t) + ".2/24", ip6 = "fd77:" + std::to_string(t) + "::2/64";
      NatPlan p = plan("ctr-" + std::to_string(t), {ip4.c_str(), ip6.c_str()}, true,
                       {{static_cast<std::uint16_t>(10000 + t), 80, net::L4Proto::Tcp, {}}, {static_cast<std::uint16_t>(20000 + t), 53, net::L4Proto::Udp, {}}});
      EXPECT_NO_THROW(fw_->check(p)) << t;
    }
  });
  const auto objs = objects();
  EXPECT_EQ(objs.count("chain ip att-" + attachment_hash({"net1", "ctr-1", "eth0"}) + "-dnat"), 0u);
  // 6 skeleton chains + 2 per attachment per family; 3 elements per attachment per family.
  std::size_t chains = 0, elems = 0;
  for (const auto& o : objs) {
    chains += o.rfind("chain ", 0) == 0;
    elems += o.rfind("elem ", 0) == 0;
  }
  EXPECT_EQ(chains, 6u + 8u * 4u);
  EXPECT_EQ(elems, 8u * 6u);
  in_host([&] {
    for (int t = 0; t < kThreads; t += 2) fw_->del({"net1", "ctr-" + std::to_string(t), "eth0"});
  });
  EXPECT_TRUE(tables().empty());
}

const char* kExpectedBridge = R"(table bridge tether {
	comment "managed by tether"
	map macspoof {
		type ifname : verdict
		elements = { "tva" comment "C" : goto att-H-mac }
	}

	chain prerouting {
		type filter hook prerouting priority dstnat; policy accept;
		iifname vmap @macspoof
	}

	chain att-H-mac {
		comment "C"
		iifname "tva" ether saddr != 02:42:0a:42:00:02 drop comment "C"
	}
}
)";

TEST_F(FirewallNftablesTest, MacspoofDropsFramesWithAnotherSourceMac) {
  // Two containers on a host bridge; A's frames must carry A's MAC.
  TestNetns& a = add_container("msa");
  TestNetns& b = add_container("msb");
  std::string out;
  ASSERT_EQ(host().exec("ip link add tbr0 type bridge && ip link set tbr0 up"
                        " && ip link add tva type veth peer name eth0 netns " + a.name() +
                        " && ip link add tvb type veth peer name eth0 netns " + b.name() +
                        " && ip link set tva master tbr0 up && ip link set tvb master tbr0 up", &out), 0) << out;
  ASSERT_EQ(a.exec("ip link set eth0 address 02:42:0a:42:00:02 && ip addr add 10.66.0.2/24 dev eth0 && ip link set eth0 up", &out), 0) << out;
  ASSERT_EQ(b.exec("ip addr add 10.66.0.3/24 dev eth0 && ip link set eth0 up", &out), 0) << out;
  const NatPlan nat = plan("ctr-a", {"10.66.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  const MacSpoofPlan spoof{nat.key, "tva", "02:42:0a:42:00:02"};
  in_host([&] {
    fw_->add(nat);
    fw_->add_macspoof(spoof);
    fw_->add_macspoof(spoof);  // again: replaced, not duplicated
    EXPECT_NO_THROW(fw_->check_macspoof(spoof));
  });
  const std::string text = replace_all(replace_all(kExpectedBridge, "att-H-", "att-" + attachment_hash(nat.key) + "-"), "\"C\"",
                                       "\"" + attachment_comment(nat.key) + "\"");
  EXPECT_EQ(nft("list table bridge tether"), text);
  auto ping = [&] { return a.exec("ip neigh flush dev eth0; ping -c1 -W1 10.66.0.3 >/dev/null 2>&1"); };
  EXPECT_EQ(ping(), 0) << "the real MAC passes";
  ASSERT_EQ(a.exec("ip link set eth0 address 02:42:0a:42:00:99", &out), 0) << out;
  EXPECT_NE(ping(), 0) << "a spoofed MAC is dropped";
  // Another attachment cannot take over the same host interface.
  in_host([&] { EXPECT_THROW(fw_->add_macspoof({{"net1", "ctr-b", "eth0"}, "tva", "02:42:0a:42:00:03"}), Error); });
  in_host([&] { fw_->del(nat.key); });  // DEL takes macspoofchk with the NAT objects
  EXPECT_TRUE(tables().empty());
  EXPECT_EQ(ping(), 0) << "after DEL nothing filters";
}

}  // namespace
}  // namespace tether::firewall
