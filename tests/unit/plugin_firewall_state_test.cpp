// The firewall state files `tether firewall-reload` works from: round trip, and every way a file
// can be torn, hostile or misplaced (skipped with a warning, never trusted).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "lib/firewall/naming.hpp"
#include "lib/sys/atomic_file.hpp"
#include "lib/util/error.hpp"
#include "plugin/firewall_state.hpp"

namespace tether::plugin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

AttachmentState sample(const std::string& id = "ctr1", const std::string& network = "net1") {
  AttachmentState s;
  s.nat.key = {network, id, "eth0"};
  s.nat.ip_masq = true;
  s.nat.container_ips = {*net::IpPrefix::parse("10.9.0.5/24"), *net::IpPrefix::parse("fd00:9::5/64")};
  s.nat.port_mappings = {{8080, 80, net::L4Proto::Tcp, {}},
                         {5353, 53, net::L4Proto::Udp, net::IpAddress::parse("10.1.1.1")}};
  s.backend = firewall::Backend::Nftables;
  s.bridge = "tether0";
  s.forward = true;
  return s;
}

TEST(FirewallState, JsonRoundTrip) {
  const AttachmentState s = sample();
  EXPECT_EQ(from_json(to_json(s), "x"), s);
  AttachmentState t = s;
  t.backend = firewall::Backend::Iptables;
  t.forward = false;
  t.nat.port_mappings.clear();
  EXPECT_EQ(from_json(to_json(t), "x"), t);
  t.nat.host_ifname = "veth0a1b2c3d";
  t.nat.spoof_check_mac = net::parse_mac("0a:58:0a:00:00:05");
  EXPECT_EQ(from_json(to_json(t), "x"), t);
}

TEST(FirewallState, TornOrHostileDocumentsAreRefused) {
  const std::string good = to_json(sample());
  const std::string cases[] = {
      "",
      good.substr(0, good.size() / 2),
      "[]",
      R"({"network":"../etc","containerID":"c","ifname":"eth0","backend":"nftables","bridge":"b","forward":true,"ipMasq":true,"ips":[],"portMappings":[]})",
      R"({"network":"n","containerID":"c/../../x","ifname":"eth0","backend":"nftables","bridge":"b","forward":true,"ipMasq":true,"ips":[],"portMappings":[]})",
      R"({"network":"n","containerID":"c","ifname":"eth0","backend":"pf","bridge":"b","forward":true,"ipMasq":true,"ips":[],"portMappings":[]})",
      R"({"network":"n","containerID":"c","ifname":"eth0","backend":"nftables","bridge":"b","forward":"yes","ipMasq":true,"ips":[],"portMappings":[]})",
      R"({"network":"n","containerID":"c","ifname":"eth0","backend":"nftables","bridge":"b","forward":true,"ipMasq":true,"ips":["10.0.0.1"],"portMappings":[]})",
      R"({"network":"n","containerID":"c","ifname":"eth0","backend":"nftables","bridge":"b","forward":true,"ipMasq":true,"ips":[],"portMappings":[{"hostPort":0,"containerPort":80,"protocol":"tcp"}]})",
      R"({"network":"n","containerID":"c","ifname":"eth0","backend":"nftables","bridge":"b","forward":true,"ipMasq":true,"ips":[],"portMappings":[{"hostPort":80,"containerPort":80,"protocol":"icmp"}]})",
  };
  for (const auto& text : cases) {
    SCOPED_TRACE(text);
    EXPECT_THROW(from_json(text, "f"), Error);
  }
}

class StateDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StateDirTest, SaveLoadRemove) {
  StateDir d(dir_ + "/state");
  EXPECT_TRUE(d.load_all().empty());  // missing directory: nothing, no error
  EXPECT_FALSE(d.lock_if_exists(sys::LockMode::kShared));
  d.save(sample("a"));
  d.save(sample("b"));
  d.save(sample("c", "net2"));
  EXPECT_EQ(d.load_all().size(), 3u);
  ASSERT_EQ(d.load_network("net1").size(), 2u);
  EXPECT_TRUE(d.network_has_attachments("net2"));
  AttachmentState changed = sample("a");
  changed.nat.ip_masq = false;
  d.save(changed);  // ADD again: replaced, not added
  EXPECT_EQ(d.load_network("net1").size(), 2u);
  d.remove(sample("c", "net2").nat.key);
  EXPECT_FALSE(d.network_has_attachments("net2"));
  EXPECT_FALSE(fs::exists(dir_ + "/state/net2")) << "an emptied network directory goes too";
  d.remove(sample("c", "net2").nat.key);  // again: fine
  EXPECT_TRUE(d.lock_if_exists(sys::LockMode::kShared));
}

TEST_F(StateDirTest, TheLastRemoveTakesTheTempFilesOfKilledSaves) {
  StateDir d(dir_);
  d.save(sample("a"));
  d.save(sample("b"));
  // What a save killed between its temp file and the rename leaves.
  const std::string leftover = dir_ + "/net1/" + sys::temp_name("x.json");
  std::ofstream(leftover) << "{\"network\":";
  EXPECT_EQ(d.load_network("net1").size(), 2u) << "a temp file is not a state";
  EXPECT_TRUE(d.network_has_attachments("net1"));
  d.remove(sample("a").nat.key);
  EXPECT_TRUE(fs::exists(leftover)) << "not swept while the network has attachments";
  EXPECT_EQ(d.load_network("net1").size(), 1u);
  d.remove(sample("b").nat.key);
  EXPECT_FALSE(fs::exists(dir_ + "/net1")) << "the last remove takes the leftover and the directory";
}

TEST_F(StateDirTest, NetworkHasAttachmentsBesidesOne) {
  StateDir d(dir_);
  const auto a = sample("a").nat.key;
  EXPECT_FALSE(d.network_has_attachments("net1", &a)) << "no directory";
  d.save(sample("a"));
  std::ofstream(dir_ + "/net1/" + sys::temp_name("y.json")) << "";
  EXPECT_TRUE(d.network_has_attachments("net1"));
  EXPECT_FALSE(d.network_has_attachments("net1", &a)) << "only `a` (and a temp file)";
  // Many entries: the answer comes from the first chunk of the directory, whichever it holds.
  for (int i = 0; i < 300; ++i) d.save(sample("c" + std::to_string(i)));
  EXPECT_TRUE(d.network_has_attachments("net1", &a));
  for (int i = 0; i < 300; ++i) d.remove(sample("c" + std::to_string(i)).nat.key);
  EXPECT_FALSE(d.network_has_attachments("net1", &a));
  EXPECT_TRUE(d.network_has_attachments("net1"));
}

TEST_F(StateDirTest, BadFilesAreSkippedNotTrusted) {
  StateDir d(dir_);
  d.save(sample("good"));
  const std::string net = dir_ + "/net1/";
  std::ofstream(net + "0123456789abcdef.json") << to_json(sample("good")).substr(0, 20);  // torn
  std::ofstream(net + "empty.json") << "";                                                // empty
  std::ofstream(net + firewall::attachment_hash({"net1", "other", "eth0"}) + ".json")     // misplaced:
      << to_json(sample("intruder"));                                                     //  name ≠ content
  std::ofstream(net + "notes.txt") << "hello";
  fs::create_directory(dir_ + "/net2");
  std::ofstream(dir_ + "/net2/" + firewall::attachment_hash({"net1", "x", "eth0"}) + ".json")
      << to_json(sample("x"));  // another network's attachment under net2/
  fs::create_directory(dir_ + "/bad name");
  const auto all = d.load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].nat.key.container_id, "good");
}

}  // namespace
}  // namespace tether::plugin
