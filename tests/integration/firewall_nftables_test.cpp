// The nftables firewall backend against a real (throwaway) netns: everything is read back from
// the kernel with the nft CLI (text, JSON and the bytecode nft itself would emit), DEL/GC leave
// nothing behind, conflicts fail atomically, concurrent writers stay consistent.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/nftables_firewall.hpp"
#include "lib/netns/netns.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/key.hpp"
#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/socket.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {
namespace {

using nftables::Socket;
using nlohmann::json;
using testing::NetnsTest;
using testing::TestNetns;

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
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
      if (o.contains("table"))
        out.insert(o["table"]["family"].get<std::string>() + " " + o["table"]["name"].get<std::string>());
    return out;
  }
  // Chains, rules and set elements of every table, from the JSON listing.
  std::multiset<std::string> objects() {
    std::multiset<std::string> out;
    const json rs = ruleset();
    for (const auto& o : rs.at("nftables")) {
      if (o.contains("chain"))
        out.insert("chain " + o["chain"]["family"].get<std::string>() + " " + o["chain"]["name"].get<std::string>());
      if (o.contains("rule"))
        out.insert("rule " + o["rule"]["family"].get<std::string>() + " " + o["rule"]["chain"].get<std::string>());
      for (const char* kind : {"set", "map"})
        if (o.contains(kind) && o[kind].contains("elem"))
          for (const auto& e : o[kind]["elem"])
            out.insert("elem " + o[kind]["family"].get<std::string>() + " " + o[kind]["name"].get<std::string>() + " " +
                       e.dump());
    }
    return out;
  }
  std::size_t count_prefix(const std::multiset<std::string>& objs, const std::string& prefix) {
    std::size_t n = 0;
    for (const auto& o : objs) n += o.rfind(prefix, 0) == 0;
    return n;
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
    return plan("ctr-a", {"10.77.0.2/24"}, true,
                {{8080, 80, net::L4Proto::Tcp, {}},
                 {5353, 53, net::L4Proto::Udp, {}},
                 {8081, 81, net::L4Proto::Tcp, net::IpAddress::parse("10.1.1.1")}});
  }
  // example() dual-stack, with a v6 hostIP mapping and macspoofchk: all three tables.
  static NatPlan full_example() {
    NatPlan p = example();
    p.container_ips.push_back(*net::IpPrefix::parse("fd77::2/64"));
    p.port_mappings.push_back({8443, 443, net::L4Proto::Tcp, net::IpAddress::parse("fd01::1")});
    p.host_ifname = "tva";
    p.spoof_check_mac = net::Mac{0x02, 0x42, 0x0a, 0x42, 0x00, 0x02};
    return p;
  }
  std::unique_ptr<Firewall> fw_;
};

// What `nft list table ip tether` must print for example(); I = the index key (15 hex digits of
// the attachment hash), C = the attachment comment, N = the network's comment.
const char* kExpectedV4 = R"(table ip tether {
	comment "managed by tether"
	map hostports {
		type inet_proto . inet_service : ipv4_addr . inet_service
		elements = { tcp . 8080 comment "C" : 10.77.0.2 . 80,
			     udp . 5353 comment "C" : 10.77.0.2 . 53 }
	}

	map hostip_hostports {
		type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
		elements = { 10.1.1.1 . tcp . 8081 comment "C" : 10.77.0.2 . 81 }
	}

	set masq {
		type ipv4_addr
		elements = { 10.77.0.2 comment "C" }
	}

	set subnets {
		type ipv4_addr . ipv4_addr
		flags interval
		elements = { 10.77.0.0/24 . 10.77.0.0/24 comment "N" }
	}

	set attachments {
		type ifname
		elements = { "I" comment "C" }
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @hostip_hostports
		fib daddr type local dnat ip to meta l4proto . th dport map @hostports
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @hostip_hostports
		fib daddr type local dnat ip to meta l4proto . th dport map @hostports
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname != "lo" ip saddr 127.0.0.0/8 masquerade
		ct status dnat ip saddr . ip daddr @subnets masquerade
		ip daddr 224.0.0.0/4 return
		ip saddr . ip daddr @subnets return
		ip saddr @masq masquerade
	}
}
)";

// full_example()'s other two tables.
const char* kExpectedV6 = R"(table ip6 tether {
	comment "managed by tether"
	map hostports {
		type inet_proto . inet_service : ipv6_addr . inet_service
		elements = { tcp . 8080 comment "C" : fd77::2 . 80,
			     udp . 5353 comment "C" : fd77::2 . 53 }
	}

	map hostip_hostports {
		type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service
		elements = { fd01::1 . tcp . 8443 comment "C" : fd77::2 . 443 }
	}

	set masq {
		type ipv6_addr
		elements = { fd77::2 comment "C" }
	}

	set subnets {
		type ipv6_addr . ipv6_addr
		flags interval
		elements = { fd77::/64 . fd77::/64 comment "N" }
	}

	set attachments {
		type ifname
		elements = { "I" comment "C" }
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local dnat ip6 to ip6 daddr . meta l4proto . th dport map @hostip_hostports
		fib daddr type local dnat ip6 to meta l4proto . th dport map @hostports
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local dnat ip6 to ip6 daddr . meta l4proto . th dport map @hostip_hostports
		fib daddr type local dnat ip6 to meta l4proto . th dport map @hostports
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ct status dnat ip6 saddr . ip6 daddr @subnets masquerade
		ip6 daddr ff00::/8 return
		ip6 saddr . ip6 daddr @subnets return
		ip6 saddr @masq masquerade
	}
}
)";

const char* kExpectedBridge = R"(table bridge tether {
	comment "managed by tether"
	set spoofcheck {
		type ifname
		elements = { "tva" comment "C" }
	}

	set allowed {
		type ifname . ether_addr
		elements = { "tva" . 02:42:0a:42:00:02 comment "C" }
	}

	set attachments {
		type ifname
		elements = { "I" comment "C" }
	}

	chain prerouting {
		type filter hook prerouting priority dstnat; policy accept;
		iifname @spoofcheck iifname . ether saddr != @allowed drop
	}
}
)";

std::string expected(const char* text, const NatPlan& p) {
  std::string t = replace_all(text, "\"I\"", "\"" + attachment_hash(p.key).substr(0, 15) + "\"");
  t = replace_all(t, "\"N\"", "\"" + network_rule_comment(p.key.network) + "\"");
  return replace_all(t, "\"C\"", "\"" + attachment_comment(p.key) + "\"");
}

TEST_F(FirewallNftablesTest, AddWritesTheExpectedTable) {
  const NatPlan p = example();
  in_host([&] { fw_->add(p); });
  EXPECT_EQ(nft("list table ip tether"), expected(kExpectedV4, p));
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether"}));  // v4-only plan: no ip6 table
  in_host([&] { EXPECT_NO_THROW(fw_->check(p)); });
}

TEST_F(FirewallNftablesTest, AllThreeTablesAsExpected) {
  const NatPlan p = full_example();
  in_host([&] { fw_->add(p); });
  EXPECT_EQ(nft("list table ip6 tether"), expected(kExpectedV6, p));
  EXPECT_EQ(nft("list table bridge tether"), expected(kExpectedBridge, p));
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether", "ip6 tether", "bridge tether"}));
  in_host([&] { EXPECT_NO_THROW(fw_->check(p)); });
}

TEST_F(FirewallNftablesTest, BytecodeIsWhatNftEmitsForTheSameText) {
  // Load the expected texts with nft itself into a second netns and compare what the kernel holds:
  // nft --debug=netlink prints the rules' expressions and every element's bytes and userdata,
  // nft -j the sets' types and flags.
  const NatPlan p = full_example();
  in_host([&] { fw_->add(p); });
  TestNetns& ref = add_container("ref");
  std::string out;
  ASSERT_EQ(ref.exec("nft -f - <<'EOF'\n" + expected(kExpectedV4, p) + expected(kExpectedV6, p) +
                         expected(kExpectedBridge, p) + "EOF\n",
                     &out),
            0)
      << out;
  auto normalize = [](const std::string& text) {
    // Handles differ (creation order); element order within a set dump is the hash table's.
    std::multiset<std::string> lines;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(at, end - at);
      // "<family> tether <chain> <handle> [<position>]": drop the numbers.
      if (line.find(" tether ") != std::string::npos && line.find(" tether ") < 8)
        while (!line.empty() && line.find_last_not_of("0123456789 ") < line.find_last_of(' ') &&
               line.substr(line.find_last_of(' ') + 1).find_first_not_of("0123456789") == std::string::npos)
          line.resize(line.find_last_of(' '));
      lines.insert(line);
      at = end + 1;
    }
    return lines;
  };
  auto without_handles = [](json j) {
    for (auto& o : j.at("nftables"))
      for (auto& [kind, v] : o.items()) v.erase("handle");
    return j;
  };
  for (const char* table : {"ip tether", "ip6 tether", "bridge tether"}) {
    const auto ours = normalize(nft(std::string("--debug=netlink list table ") + table));
    EXPECT_EQ(ours, normalize(nft(std::string("--debug=netlink list table ") + table, &ref))) << table;
    EXPECT_GT(ours.size(), std::string(table) == "bridge tether" ? 10u : 40u) << "really a bytecode dump";
    EXPECT_EQ(without_handles(json::parse(nft(std::string("-j list table ") + table))),
              without_handles(json::parse(nft(std::string("-j list table ") + table, &ref))))
        << table;
  }
}

TEST_F(FirewallNftablesTest, JsonListingParsesAndCommentsNameTheContainer) {
  NatPlan p = full_example();
  p.key.container_id = std::string(64, 'f');  // a real-length container ID still fits
  in_host([&] { fw_->add(p); });
  const json rs = ruleset();
  int elements = 0;
  for (const auto& o : rs.at("nftables"))
    for (const char* kind : {"set", "map"}) {
      if (!o.contains(kind) || !o[kind].contains("elem")) continue;
      for (const auto& e : o[kind]["elem"]) {
        ++elements;
        // a set element: {"elem": {"val": ..., "comment": ...}}; a map element: [that, data]
        const json& elem = e.is_array() ? e.at(0) : e;
        const std::string c = elem.at("elem").at("comment");
        EXPECT_NE(c.find("net=net1"), std::string::npos) << c;
        if (o[kind]["name"] != "subnets") {
          EXPECT_NE(c.find("id=" + p.key.container_id), std::string::npos) << c;
        }
        EXPECT_LE(c.size(), 128u);
      }
    }
  // v4: index, 2 hostports, hostip, masq, the network's subnet; v6 the same; bridge: index, spoofcheck, allowed
  EXPECT_EQ(elements, 6 + 6 + 3);
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find("unknown"), std::string::npos) << text;
  // Nothing an ADD writes makes the kernel validate the chain graph: no jumps, no verdict maps.
  for (const char* word : {"jump", "goto", "vmap", "verdict"}) EXPECT_EQ(text.find(word), std::string::npos) << word;
  EXPECT_NE(text.find("udp . 5353 comment"), std::string::npos) << text;
  // Our own reader sees each element once (as many as nft lists).
  in_host([&] {
    Socket sock = Socket::open();
    EXPECT_EQ(nftables::list_elements(sock, nftables::Family::Ip, "tether", "hostports").size(), 2u);
  });
  // The host's iptables-nft still works beside our tables.
  std::string out;
  EXPECT_EQ(host().exec("iptables-nft-save && ip6tables-nft-save && iptables-nft -t nat -L -n", &out), 0) << out;
  EXPECT_EQ(out.find("incompatible"), std::string::npos) << out;
}

TEST_F(FirewallNftablesTest, DelRemovesEverythingAndIsRepeatable) {
  const NatPlan a = full_example();
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24", "fd77::3/64"}, true, {{9090, 90, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(a);
    fw_->add(b);
  });
  in_host([&] { fw_->del(a.key); });
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find(attachment_hash(a.key)), std::string::npos) << text;
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether", "ip6 tether"}));  // a was the only bridge user
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
    fw_->check(plan("ctr-a", {"10.77.0.2/24"}, false, {}));
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, AddAgainReplaces) {
  NatPlan a = full_example();
  in_host([&] { fw_->add(a); });
  in_host([&] { fw_->add(a); });  // the same again: the same table
  EXPECT_EQ(nft("list table ip tether"), expected(kExpectedV4, a));
  a.port_mappings = {{8082, 82, net::L4Proto::Udp, {}}};
  a.container_ips = {*net::IpPrefix::parse("10.77.0.9/24")};  // v4 only now, no macspoofchk
  a.spoof_check_mac.reset();
  in_host([&] { fw_->add(a); });
  const std::string text = nft("list ruleset");
  EXPECT_EQ(text.find("8080"), std::string::npos) << text;
  EXPECT_EQ(text.find("10.77.0.2"), std::string::npos) << text;
  EXPECT_NE(text.find("udp . 8082 comment"), std::string::npos) << text;
  EXPECT_NE(text.find("10.77.0.9 comment"), std::string::npos) << text;
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tether"}));  // the leftovers went with their tables
  in_host([&] { EXPECT_NO_THROW(fw_->check(a)); });
  in_host([&] { fw_->del(a.key); });
  EXPECT_TRUE(tables().empty());
}

// The runtime never gives one host port or address to two live containers: an element another
// attachment still holds is a leftover of a container whose DEL never came, and the new owner
// takes it over (the iptables backend's first-rule-wins would leave the port on the dead one).
TEST_F(FirewallNftablesTest, PortAndAddressOfALeftoverAreTakenOver) {
  const NatPlan a = example();
  in_host([&] { fw_->add(a); });
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, true,
                         {{9999, 99, net::L4Proto::Tcp, {}}, {5353, 53, net::L4Proto::Udp, {}}});
  in_host([&] { EXPECT_NO_THROW(fw_->add(b)); });
  std::string text = nft("list ruleset");
  const std::string b_owns = "udp . 5353 comment \"" + attachment_comment(b.key) + "\" : 10.77.0.3 . 53";
  EXPECT_NE(text.find(b_owns), std::string::npos) << text;
  in_host([&] {
    EXPECT_NO_THROW(fw_->check(b));
    EXPECT_THROW(fw_->check(a), Error) << "a lost its port";
  });
  // The leftover's DEL, when it finally comes, leaves what was taken from it alone.
  in_host([&] { fw_->del(a.key); });
  in_host([&] { EXPECT_NO_THROW(fw_->check(b)); });
  // An address taken over the same way (IPAM handed a leftover's address out again).
  const NatPlan c = plan("ctr-c", {"10.77.0.3/24"}, true, {});
  in_host([&] { EXPECT_NO_THROW(fw_->add(c)); });
  text = nft("list ruleset");
  EXPECT_NE(text.find("10.77.0.3 comment \"" + attachment_comment(c.key) + "\""), std::string::npos) << text;
}

// A subnet overlapping another network's is a configuration conflict, not a leftover: refused,
// naming the network, and nothing of the plan is applied (batches are atomic).
TEST_F(FirewallNftablesTest, OverlappingSubnetOfAnotherNetworkFailsAtomically) {
  const NatPlan a = example();
  in_host([&] { fw_->add(a); });
  const std::string before = nft("list ruleset");
  in_host([&] {
    try {
      fw_->add(plan("ctr-c", {"10.77.5.5/16"}, true, {{9999, 99, net::L4Proto::Tcp, {}}}, "net2"));
      ADD_FAILURE() << "an overlapping subnet was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kInternal);
      const std::string msg = e.what();
      EXPECT_NE(msg.find("subnet 10.77.0.0/16 overlaps the subnet of another network"), std::string::npos) << msg;
      EXPECT_NE(msg.find("network net=net1"), std::string::npos) << msg;
    }
  });
  EXPECT_EQ(nft("list ruleset"), before);  // not even its free port 9999
  in_host([&] { EXPECT_NO_THROW(fw_->check(a)); });
}

TEST_F(FirewallNftablesTest, RepeatedDelLeavesAPortTakenOverMeanwhile) {
  const NatPlan a = plan("ctr-a", {"10.77.0.2/24"}, false, {{8080, 80, net::L4Proto::Tcp, {}}});
  const NatPlan b = plan("ctr-b", {"10.77.0.3/24"}, false, {{8080, 80, net::L4Proto::Tcp, {}}});
  in_host([&] {
    fw_->add(a);
    fw_->del(a.key);
    fw_->add(b);
    fw_->del(a.key);  // a's DEL again: the element is b's now
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
  const NatPlan p = full_example();
  in_host([&] { EXPECT_THROW(fw_->check(p), Error); });  // nothing there
  in_host([&] { fw_->add(p); });
  auto expect_missing = [&](const std::vector<std::string>& parts) {
    in_host([&] {
      try {
        fw_->check(p);
        ADD_FAILURE() << "check passed with " << parts.front() << " missing";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), kInternal);
        for (const auto& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
      }
    });
  };
  nft("'delete element ip tether hostports { udp . 5353 }'");
  expect_missing({"udp . 5353", "ctr-a"});
  nft("'add element ip tether hostports { udp . 5353 comment \"someone else\" : 10.77.0.2 . 53 }'");
  expect_missing({"udp . 5353", "belongs to 'someone else'"});
  nft("'delete element ip tether hostports { udp . 5353 }'");
  nft("'add element ip tether hostports { udp . 5353 comment \"" + attachment_comment(p.key) +
      "\" : 10.77.0.2 . 54 }'");
  expect_missing({"udp . 5353", "maps elsewhere"});
  nft("'delete element ip tether hostports { udp . 5353 }'");
  nft("'add element ip tether hostports { udp . 5353 comment \"" + attachment_comment(p.key) +
      "\" : 10.77.0.2 . 53 }'");
  in_host([&] { EXPECT_NO_THROW(fw_->check(p)); });
  nft("'delete element bridge tether allowed { \"tva\" . 02:42:0a:42:00:02 }'");
  expect_missing({"\"tva\" . 02:42:0a:42:00:02", "@allowed"});
  nft("flush chain ip6 tether postrouting");
  expect_missing({"rule in ip6 tether postrouting: ip6 saddr @masq masquerade"});
}

TEST_F(FirewallNftablesTest, DelCopesWithElementsDeletedByHand) {
  const NatPlan p = full_example();
  in_host([&] { fw_->add(p); });
  nft("'delete element ip tether hostip_hostports { 10.1.1.1 . tcp . 8081 }'");
  nft("'delete element ip6 tether attachments { \"" + attachment_hash(p.key).substr(0, 15) + "\" }'");
  in_host([&] { fw_->del(p.key); });
  EXPECT_TRUE(tables().empty());  // the ip6 elements went too: DEL reads every table once it starts
}

TEST_F(FirewallNftablesTest, ForeignTablesAndObjectsSurvive) {
  nft("'add table ip foreign; add chain ip foreign fw { type filter hook forward priority 0; policy accept; }'");
  const NatPlan p = example();
  const NatPlan q = plan("ctr-q", {"fd77::9/64"}, true, {});
  in_host([&] {
    fw_->add(p);
    fw_->add(q);
  });
  nft("add chain ip tether admin-extra");             // someone else's object in our table keeps it
  nft("'add element ip6 tether masq { fd77::99 }'");  // and so does an element without our comment
  in_host([&] {
    fw_->del(p.key);
    fw_->del(q.key);
  });
  EXPECT_EQ(tables(), (std::set<std::string>{"ip foreign", "ip tether", "ip6 tether"}));
  EXPECT_EQ(count_prefix(objects(), "elem "), 1u);
  EXPECT_NE(nft("list table ip6 tether").find("fd77::99"), std::string::npos);
}

TEST_F(FirewallNftablesTest, ProbeSeesNftables) {
  in_host([&] { EXPECT_TRUE(nftables::kernel_has_nftables()); });
  EXPECT_TRUE(tables().empty());  // the probe created nothing
}

// A batch asks for one ack (its last message's); the kernel still reports every failing message,
// so a failure stays pinned to its message, wherever it is, and nothing of the batch is applied.
TEST_F(FirewallNftablesTest, BatchPinsEveryFailureAndAppliesNothingOrAll) {
  using nftables::Batch;
  using nftables::BatchError;
  using nftables::Family;
  auto element = [](const char* ip) {
    nftables::Element e;
    e.table = "tt_batch";
    e.set = "s";
    e.key = nftables::KeyBuilder(false).address(*net::IpAddress::parse(ip)).bytes();
    e.label = ip;
    return e;
  };
  auto batch = [&](std::vector<const char*> exclusive_at_end) {
    Batch b;
    b.add_table({Family::Ip, "tt_batch", "batch test"});
    b.add_set({Family::Ip, "tt_batch", "s", {nftables::KeyType::Ipv4Addr}, false, {}, false});
    b.add_element(element("10.77.0.1"));
    for (const char* ip : exclusive_at_end) b.add_element(element(ip), true);
    return b;
  };
  auto failures = [&](const Batch& b) {
    std::vector<std::pair<std::size_t, int>> out;
    in_host([&] {
      Socket sock = Socket::open();
      try {
        b.commit(sock);
      } catch (const BatchError& e) {
        for (const auto& f : e.failures()) out.emplace_back(f.index, f.err);
      }
    });
    return out;
  };
  using Failures = std::vector<std::pair<std::size_t, int>>;
  // A duplicate in the middle, then one at the end: both named, nothing created.
  EXPECT_EQ(failures(batch({"10.77.0.1", "10.77.0.2", "10.77.0.1"})), (Failures{{3, EEXIST}, {5, EEXIST}}));
  EXPECT_TRUE(tables().empty());
  // Only the first message's twin fails (no ack asked for it): still reported.
  EXPECT_EQ(failures(batch({"10.77.0.1", "10.77.0.2"})), (Failures{{3, EEXIST}}));
  EXPECT_TRUE(tables().empty());
  EXPECT_EQ(failures(batch({"10.77.0.2", "10.77.0.3"})), Failures{});
  EXPECT_EQ(tables(), (std::set<std::string>{"ip tt_batch"}));
  const std::string listed = nft("list set ip tt_batch s");
  for (const char* ip : {"10.77.0.1", "10.77.0.2", "10.77.0.3"})
    EXPECT_NE(listed.find(ip), std::string::npos) << listed;
  nft("delete table ip tt_batch");
}

// 16 writers, each its own Firewall and thread (setns is per thread), each ADD/DEL-ing its own
// attachment (and replacing it in the middle of the storm); the even ones end with it in place.
void storm(const std::string& ns, const std::function<NatPlan(int)>& plan_of) {
  constexpr int kThreads = 16, kRounds = 8;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        netns::NetnsGuard guard(netns::Netns::open(ns));
        auto fw = make_nftables_firewall();
        const NatPlan p = plan_of(t);
        for (int r = 0; r < kRounds; ++r) {
          fw->add(p);
          if (r % 3 == 1) fw->add(p);
          fw->del(p.key);
        }
        if (t % 2 == 0) fw->add(p);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

NatPlan storm_plan(int t, const std::string& ip4, const std::string& ip6, const std::string& network) {
  NatPlan p;
  p.key = {network, "ctr-" + std::to_string(t), "eth0"};
  p.ip_masq = true;
  p.container_ips = {*net::IpPrefix::parse(ip4), *net::IpPrefix::parse(ip6)};
  p.port_mappings = {{static_cast<std::uint16_t>(10000 + t), 80, net::L4Proto::Tcp, {}},
                     {static_cast<std::uint16_t>(20000 + t), 53, net::L4Proto::Udp, {}}};
  return p;
}

TEST_F(FirewallNftablesTest, ConcurrentAddDelStaysConsistent) {
  // A network per thread: its subnet element lives exactly as long as its attachment.
  auto plan_of = [](int t) {
    return storm_plan(t, "10.77." + std::to_string(t) + ".2/24", "fd77:" + std::to_string(t) + "::2/64",
                      "net" + std::to_string(t));
  };
  storm(host().path(), plan_of);
  if (HasFailure()) return;
  in_host([&] {
    for (int t = 0; t < 16; t += 2) EXPECT_NO_THROW(fw_->check(plan_of(t))) << t;
  });
  const auto objs = objects();
  EXPECT_EQ(nft("list ruleset").find(attachment_hash(plan_of(1).key)), std::string::npos);
  EXPECT_EQ(nft("list ruleset").find("10.77.1.0/24"), std::string::npos);
  // 3 skeleton chains per family and nothing else; per attachment and family: index, 2 ports,
  // masq, its network's subnet.
  EXPECT_EQ(count_prefix(objs, "chain "), 6u);
  EXPECT_EQ(count_prefix(objs, "elem "), 8u * 2u * 5u);
  in_host([&] {
    for (int t = 0; t < 16; t += 2) fw_->del(plan_of(t).key);
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, ConcurrentAttachmentsOfOneNetworkShareItsSubnet) {
  // One network, one subnet per family: every ADD re-adds the shared element, every DEL decides
  // whether it was the network's last attachment. It must survive while any attachment is there.
  auto plan_of = [](int t) {
    return storm_plan(t, "10.77." + std::to_string(t) + ".2/16", "fd77::" + std::to_string(t + 1) + ":2/64", "net1");
  };
  storm(host().path(), plan_of);
  if (HasFailure()) return;
  in_host([&] {
    for (int t = 0; t < 16; t += 2) EXPECT_NO_THROW(fw_->check(plan_of(t))) << t;
  });
  const auto objs = objects();
  EXPECT_EQ(count_prefix(objs, "elem ip subnets "), 1u);
  EXPECT_EQ(count_prefix(objs, "elem ip6 subnets "), 1u);
  EXPECT_EQ(count_prefix(objs, "elem "), 8u * 2u * 4u + 2u);
  in_host([&] {
    for (int t = 0; t < 16; t += 2) {
      fw_->del(plan_of(t).key);
      if (t < 14) {
        EXPECT_NO_THROW(fw_->check(plan_of(14))) << "after DEL of " << t;
      }
    }
  });
  EXPECT_TRUE(tables().empty());
}

TEST_F(FirewallNftablesTest, MacspoofDropsFramesWithAnotherSourceMac) {
  // Two containers on a host bridge; A's frames must carry A's MAC.
  TestNetns& a = add_container("msa");
  TestNetns& b = add_container("msb");
  std::string out;
  ASSERT_EQ(host().exec("ip link add tbr0 type bridge && ip link set tbr0 up"
                        " && ip link add tva type veth peer name eth0 netns " +
                            a.name() + " && ip link add tvb type veth peer name eth0 netns " + b.name() +
                            " && ip link set tva master tbr0 up && ip link set tvb master tbr0 up",
                        &out),
            0)
      << out;
  ASSERT_EQ(a.exec("ip link set eth0 address 02:42:0a:42:00:02 && ip addr add 10.66.0.2/24 dev eth0 && ip link set "
                   "eth0 up",
                   &out),
            0)
      << out;
  ASSERT_EQ(b.exec("ip addr add 10.66.0.3/24 dev eth0 && ip link set eth0 up", &out), 0) << out;
  NatPlan p = plan("ctr-a", {"10.66.0.2/24"}, true, {{8080, 80, net::L4Proto::Tcp, {}}});
  p.host_ifname = "tva";
  p.spoof_check_mac = net::Mac{0x02, 0x42, 0x0a, 0x42, 0x00, 0x02};
  in_host([&] {
    fw_->add(p);
    fw_->add(p);  // again: replaced, not duplicated
    EXPECT_NO_THROW(fw_->check(p));
  });
  EXPECT_EQ(nft("list table bridge tether"), expected(kExpectedBridge, p));
  auto ping = [&] { return a.exec("ip neigh flush dev eth0; ping -c1 -W1 10.66.0.3 >/dev/null 2>&1"); };
  auto ping_as = [&](TestNetns& ns, const std::string& mac) {
    ns.exec("ip link set eth0 address " + mac);
    return ping();
  };
  EXPECT_EQ(ping(), 0) << "the real MAC passes";
  EXPECT_EQ(b.exec("ping -c1 -W1 10.66.0.2 >/dev/null 2>&1"), 0) << "a port without macspoofchk is not filtered";
  ASSERT_EQ(a.exec("ip link set eth0 address 02:42:0a:42:00:99", &out), 0) << out;
  EXPECT_NE(ping(), 0) << "a spoofed MAC is dropped";
  // A new attachment on the same host interface name (the kernel reuses a freed veth name) takes
  // the check over: the earlier attachment is a leftover.
  NatPlan other = plan("ctr-b", {}, false, {});
  other.host_ifname = "tva";
  other.spoof_check_mac = net::Mac{0x02, 0x42, 0x0a, 0x42, 0x00, 0x03};
  in_host([&] {
    EXPECT_NO_THROW(fw_->add(other));
    EXPECT_NO_THROW(fw_->check(other));
  });
  EXPECT_NE(ping(), 0) << "still checked, now against the new owner's MAC";
  ASSERT_EQ(a.exec("ip link set eth0 address 02:42:0a:42:00:03", &out), 0) << out;
  EXPECT_EQ(ping(), 0) << "the new owner's MAC passes";
  in_host([&] { fw_->del(p.key); });  // the leftover's DEL leaves the new owner's check alone
  EXPECT_NE(ping_as(a, "02:42:0a:42:00:99"), 0) << "the new owner's check survived the leftover's DEL";
  in_host([&] { fw_->del(other.key); });  // DEL takes macspoofchk with the NAT objects
  EXPECT_TRUE(tables().empty());
  EXPECT_EQ(ping(), 0) << "after DEL nothing filters";
}

// FORWARD accepts (forward_rules.hpp) in iptables-nft's filter tables.
class FirewallNftForwardTest : public FirewallNftablesTest {
 protected:
  std::string sh(const std::string& cmd, const TestNetns* ns = nullptr) {
    std::string out;
    EXPECT_EQ((ns ? *ns : host()).exec(cmd + " 2>&1", &out), 0) << cmd << "\n" << out;
    return out;
  }
  // Docker's filter-table skeleton made with iptables-nft (as Docker 28 on Debian >= 10), with
  // the FORWARD policy it sets, in both families.
  void docker_setup(const TestNetns* ns = nullptr) {
    for (const char* ipt : {"iptables-nft", "ip6tables-nft"}) {
      const std::string i = ipt;
      sh(i + " -N DOCKER-USER && " + i + " -N DOCKER-FORWARD && " + i + " -A DOCKER-USER -j RETURN && " + i +
             " -A FORWARD -j DOCKER-USER && " + i + " -A FORWARD -j DOCKER-FORWARD && " + i + " -P FORWARD DROP",
         ns);
    }
  }
  static ForwardPlan fplan(const std::string& network, std::vector<const char*> subnets) {
    ForwardPlan p{network, "tbr0", {}};
    for (const char* s : subnets) p.subnets.push_back(*net::IpPrefix::parse(s));
    return p;
  }
  // The "-A <chain> ..." lines of a save listing.
  static std::vector<std::string> lines_of(const std::string& save, const std::string& chain) {
    std::vector<std::string> out;
    const std::string head = "-A " + chain + " ";
    for (std::size_t at = 0; (at = save.find(head, at)) != std::string::npos; at += head.size())
      if (at == 0 || save[at - 1] == '\n') out.push_back(save.substr(at, save.find('\n', at) - at));
    return out;
  }
  std::string check_error(const ForwardPlan& p) {
    std::string msg;
    in_host([&] {
      try {
        fw_->check_forward(p);
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), kInternal);
        msg = e.what();
      }
    });
    return msg;
  }
  // Handles and everything else: a rewrite of anything shows as a new handle.
  std::string listing_with_handles() { return nft("-a list ruleset"); }
};

TEST_F(FirewallNftForwardTest, DockerUserGetsTheJumpAndIptablesNftListsAndMatchesEveryRule) {
  docker_setup();
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24", "10.80.16.0/20", "fd77::/64", "fd78::/60"});
  in_host([&] { fw_->ensure_forward(p); });
  const std::string comment = forward_rule_comment("net1");
  for (const char* ipt : {"iptables-nft", "ip6tables-nft"}) {
    const std::string save = sh(std::string(ipt) + "-save");
    EXPECT_EQ(save.find("incompatible"), std::string::npos) << save;
    EXPECT_EQ(save.find("Warning"), std::string::npos) << save;
    const auto user = lines_of(save, "DOCKER-USER");
    ASSERT_EQ(user.size(), 2u) << save;
    EXPECT_EQ(user[0], "-A DOCKER-USER -m comment --comment \"tether:shared forward\" -j TETHER-FORWARD") << "first";
    EXPECT_EQ(lines_of(save, "FORWARD"),
              (std::vector<std::string>{"-A FORWARD -j DOCKER-USER", "-A FORWARD -j DOCKER-FORWARD"}))
        << "FORWARD untouched with DOCKER-USER there";
    const bool v4 = std::string(ipt) == "iptables-nft";
    const std::vector<std::string> subnets = v4 ? std::vector<std::string>{"10.77.0.0/24", "10.80.16.0/20"}
                                                : std::vector<std::string>{"fd77::/64", "fd78::/60"};
    std::vector<std::string> want;
    for (const auto& s : subnets) {
      want.push_back("-A TETHER-FORWARD -d " + s +
                     " -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment \"" + comment + "\" -j ACCEPT");
      want.push_back("-A TETHER-FORWARD -d " + s + " -m conntrack --ctstate DNAT -m comment --comment \"" + comment +
                     "\" -j ACCEPT");
      want.push_back("-A TETHER-FORWARD -s " + s + " -m comment --comment \"" + comment + "\" -j ACCEPT");
    }
    EXPECT_EQ(lines_of(save, "TETHER-FORWARD"), want) << save;
    // -C builds the rule from the text the way iptables-nft writes it and compares it with ours.
    for (const auto& line : lines_of(save, "TETHER-FORWARD")) sh(std::string(ipt) + " -C" + line.substr(2));
    sh(std::string(ipt) + " -C" + user[0].substr(2));
  }
  in_host([&] { EXPECT_NO_THROW(fw_->check_forward(p)); });
  EXPECT_NO_THROW(json::parse(nft("-j list ruleset")));
  EXPECT_TRUE(tables().count("ip filter") && !tables().count("ip tether")) << "no table of ours for this";
}

TEST_F(FirewallNftForwardTest, BytecodeIsWhatIptablesNftWritesForTheSameLines) {
  docker_setup();
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24", "10.80.16.0/20", "10.9.9.9/32", "fd77::/64", "fd78::/60"});
  in_host([&] { fw_->ensure_forward(p); });
  // The same lines through iptables-nft itself, in another netns.
  TestNetns& ref = add_container("ref");
  docker_setup(&ref);
  for (const char* ipt : {"iptables-nft", "ip6tables-nft"}) {
    const std::string save = sh(std::string(ipt) + "-save");
    sh(std::string(ipt) + " -N TETHER-FORWARD", &ref);
    for (const auto& line : lines_of(save, "TETHER-FORWARD")) sh(std::string(ipt) + " " + line, &ref);
    sh(std::string(ipt) + " -I" + lines_of(save, "DOCKER-USER").at(0).substr(2), &ref);
  }
  // Rule handles differ (creation order): drop the "# handle N" suffixes and the rules' header
  // lines' numbers; counters are zero on both sides.
  auto normalize = [](std::string text) {
    std::string out;
    for (std::size_t at = 0; at < text.size();) {
      std::size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(at, end - at);
      if (line.rfind("ip", 0) == 0 && line.find(" filter ") != std::string::npos)
        while (!line.empty() && line.find_last_of(' ') != std::string::npos &&
               line.substr(line.find_last_of(' ') + 1).find_first_not_of("0123456789") == std::string::npos)
          line.resize(line.find_last_of(' '));
      out += line + "\n";
      at = end + 1;
    }
    return out;
  };
  for (const char* family : {"ip", "ip6"}) {
    for (const char* chain : {"TETHER-FORWARD", "DOCKER-USER"}) {
      const std::string args = std::string("--debug=netlink list chain ") + family + " filter " + chain;
      const std::string ours = normalize(nft(args));
      EXPECT_EQ(ours, normalize(nft(args, &ref))) << family << " " << chain;
      EXPECT_NE(ours.find("[ match name comment rev 0 ]"), std::string::npos) << ours;
    }
  }
  // The conntrack blobs too (--debug=netlink does not print them): the JSON listing decodes them.
  EXPECT_EQ(normalize(sh("iptables-nft-save | grep -v '^#'")), normalize(sh("iptables-nft-save | grep -v '^#'", &ref)));
}

TEST_F(FirewallNftForwardTest, WithoutDockerUserTheJumpGoesFirstInForward) {
  sh("iptables-nft -A FORWARD -s 10.66.0.0/16 -j DROP && iptables-nft -P FORWARD DROP");
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24"});
  in_host([&] { fw_->ensure_forward(p); });
  const std::string save = sh("iptables-nft-save");
  EXPECT_EQ(lines_of(save, "FORWARD"),
            (std::vector<std::string>{"-A FORWARD -m comment --comment \"tether:shared forward\" -j TETHER-FORWARD",
                                      "-A FORWARD -s 10.66.0.0/16 -j DROP"}))
      << save;
  EXPECT_EQ(lines_of(save, "TETHER-FORWARD").size(), 3u) << save;
  EXPECT_FALSE(tables().count("ip6 filter")) << "no ip6 filter table was created";
  in_host([&] { EXPECT_NO_THROW(fw_->check_forward(p)); });
  in_host([&] { fw_->remove_forward("net1"); });
  EXPECT_EQ(lines_of(sh("iptables-nft-save"), "FORWARD"),
            (std::vector<std::string>{"-A FORWARD -s 10.66.0.0/16 -j DROP"}));
  EXPECT_EQ(sh("iptables-nft-save").find("TETHER"), std::string::npos);
}

TEST_F(FirewallNftForwardTest, ASecondEnsureWritesNothing) {
  docker_setup();
  in_host([&] { fw_->add(example()); });  // our table too
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24", "fd77::/64"});
  in_host([&] { fw_->ensure_forward(p); });
  const std::string before = listing_with_handles();
  EXPECT_NE(before.find("chain TETHER-FORWARD"), std::string::npos) << before;
  in_host([&] { fw_->ensure_forward(p); });
  EXPECT_EQ(listing_with_handles(), before);
  // A rule deleted by hand is put back, and nothing else is rewritten.
  const std::string save = sh("iptables-nft-save");
  const std::string line = lines_of(save, "TETHER-FORWARD").at(1);
  sh("iptables-nft -D" + line.substr(2));
  in_host([&] { fw_->ensure_forward(p); });
  EXPECT_EQ(lines_of(sh("iptables-nft-save"), "TETHER-FORWARD").size(), 3u);
  const std::string after = listing_with_handles();
  // Lines of the first listing missing from the second: the deleted rule only (handles repeat
  // across tables, so whole lines are compared).
  std::size_t lost = 0;
  std::istringstream lines(before);
  for (std::string l; std::getline(lines, l);) lost += after.find(l + "\n") == std::string::npos;
  EXPECT_EQ(lost, 1u) << before << "\n---\n" << after;
}

TEST_F(FirewallNftForwardTest, ANetworksRemovalLeavesTheOthersAndTheLastTakesChainAndJumps) {
  docker_setup();
  const ForwardPlan a = fplan("net1", {"10.77.0.0/24", "fd77::/64"});
  const ForwardPlan b = fplan("net2", {"10.78.0.0/24"});
  in_host([&] {
    fw_->ensure_forward(a);
    fw_->ensure_forward(b);
  });
  const std::string docker_before = sh("iptables-nft -S DOCKER-FORWARD && iptables-nft -S FORWARD");
  in_host([&] { fw_->remove_forward("net1"); });
  std::string save = sh("iptables-nft-save");
  EXPECT_EQ(save.find(forward_rule_comment("net1")), std::string::npos) << save;
  EXPECT_EQ(lines_of(save, "TETHER-FORWARD").size(), 3u) << save;
  EXPECT_EQ(lines_of(save, "DOCKER-USER").size(), 2u) << "net2 keeps the jump";
  EXPECT_EQ(sh("ip6tables-nft-save").find("TETHER"), std::string::npos) << "net1 was the last v6 network";
  in_host([&] {
    EXPECT_NO_THROW(fw_->check_forward(b));
    EXPECT_THROW(fw_->check_forward(a), Error);
  });
  in_host([&] {
    fw_->remove_forward("net2");
    fw_->remove_forward("net2");  // nothing there: fine
  });
  save = sh("iptables-nft-save");
  EXPECT_EQ(save.find("TETHER"), std::string::npos) << save;
  EXPECT_EQ(lines_of(save, "DOCKER-USER"), (std::vector<std::string>{"-A DOCKER-USER -j RETURN"}));
  EXPECT_EQ(sh("iptables-nft -S DOCKER-FORWARD && iptables-nft -S FORWARD"), docker_before);
  EXPECT_NE(save.find(":FORWARD DROP"), std::string::npos);
}

TEST_F(FirewallNftForwardTest, NoFilterTableNoForwardChainNothingCreated) {
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24", "fd77::/64"});
  in_host([&] {
    fw_->ensure_forward(p);
    EXPECT_NO_THROW(fw_->check_forward(p));
    fw_->remove_forward("net1");
  });
  EXPECT_TRUE(tables().empty());
  // A filter table without FORWARD (only INPUT used) drops no forwarded traffic, and nothing of
  // ours drops any: both left alone (an accept in our own table would override nothing).
  sh("iptables-nft -A INPUT -s 10.1.0.0/16 -j ACCEPT");
  in_host([&] { fw_->add(example()); });
  const std::string before = listing_with_handles();
  in_host([&] {
    fw_->ensure_forward(p);
    EXPECT_NO_THROW(fw_->check_forward(p));
  });
  EXPECT_EQ(listing_with_handles(), before);
  EXPECT_EQ(before.find("hook forward"), std::string::npos) << before;
  in_host([&] { fw_->add_with_forward(plan("ctr-2", {"10.77.0.3/24"}, true, {}), p); });
  EXPECT_EQ(nft("list ruleset").find("hook forward"), std::string::npos);
}

// add_with_forward is add then ensure_forward in one batch: the same ruleset, on a fresh node
// (the batch creates our table and the accepts in iptables-nft's) and beside an attachment of
// another network (table there: elements and the network's accepts only).
TEST_F(FirewallNftForwardTest, AddWithForwardWritesWhatAddThenEnsureWrite) {
  docker_setup();
  const NatPlan nat = full_example();
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24", "fd77::/64"});
  const NatPlan other = plan("ctr-o", {"10.78.0.2/24"}, true, {{9090, 90, net::L4Proto::Tcp, {}}}, "net2");
  const ForwardPlan q = fplan("net2", {"10.78.0.0/24"});
  auto clear = [&] {
    in_host([&] {
      fw_->del(nat.key);
      fw_->del(other.key);
      fw_->remove_forward("net1");
      fw_->remove_forward("net2");
    });
    EXPECT_TRUE(tables().count("ip tether") == 0);
  };
  in_host([&] {
    fw_->add(nat);
    fw_->ensure_forward(p);
  });
  const std::string fresh = nft("list ruleset");
  clear();
  in_host([&] { fw_->add_with_forward(nat, p); });
  EXPECT_EQ(nft("list ruleset"), fresh);
  in_host([&] { EXPECT_NO_THROW(fw_->check_forward(p)); });

  in_host([&] {
    fw_->add(other);
    fw_->ensure_forward(q);
  });
  const std::string beside = nft("list ruleset");
  clear();
  in_host([&] {
    fw_->add_with_forward(nat, p);
    fw_->add_with_forward(other, q);
  });
  EXPECT_EQ(nft("list ruleset"), beside);
  clear();
  EXPECT_TRUE(tables().count("ip6 tether") == 0 && tables().count("bridge tether") == 0);
}

TEST_F(FirewallNftForwardTest, ForeignRulesSurvive) {
  docker_setup();
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24"});
  in_host([&] { fw_->ensure_forward(p); });
  sh("iptables-nft -A TETHER-FORWARD -s 10.99.0.0/24 -j ACCEPT");
  in_host([&] { fw_->remove_forward("net1"); });
  const std::string save = sh("iptables-nft-save");
  EXPECT_EQ(lines_of(save, "TETHER-FORWARD"),
            (std::vector<std::string>{"-A TETHER-FORWARD -s 10.99.0.0/24 -j ACCEPT"}));
  EXPECT_EQ(lines_of(save, "DOCKER-USER").size(), 2u) << "the chain is still in use: its jump stays";
  EXPECT_EQ(save.find(forward_rule_comment("net1")), std::string::npos) << save;
}

TEST_F(FirewallNftForwardTest, CheckNamesWhatIsMissingInIpFilter) {
  docker_setup();
  const ForwardPlan p = fplan("net1", {"10.77.0.0/24"});
  std::string msg = check_error(p);
  EXPECT_NE(msg.find("chain ip filter TETHER-FORWARD"), std::string::npos) << msg;
  EXPECT_NE(msg.find("jump to TETHER-FORWARD in ip filter DOCKER-USER"), std::string::npos) << msg;
  in_host([&] { fw_->ensure_forward(p); });
  EXPECT_EQ(check_error(p), "");
  sh("iptables-nft -D DOCKER-USER -m comment --comment 'tether:shared forward' -j TETHER-FORWARD");
  msg = check_error(p);
  EXPECT_NE(msg.find("jump to TETHER-FORWARD in ip filter DOCKER-USER"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("rule in"), std::string::npos) << msg;
  in_host([&] { fw_->ensure_forward(p); });
  const std::string dnat = lines_of(sh("iptables-nft-save"), "TETHER-FORWARD").at(1);
  sh("iptables-nft -D" + dnat.substr(2));
  msg = check_error(p);
  EXPECT_NE(msg.find("rule in ip filter TETHER-FORWARD: " + dnat), std::string::npos) << msg << "\n" << dnat;
}

}  // namespace
}  // namespace tether::firewall
