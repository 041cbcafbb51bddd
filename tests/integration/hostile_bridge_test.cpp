// Hostile input against the tether binary where it can do harm: run in a fake host netns with a
// real container netns, every case must exit 1 with the spec's code and a message naming the key
// (7) or variable (4), and leave everything as it was: the links of the host and container netns,
// the host's nat table, and the IPAM dataDir.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"

namespace tether::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kBridge = "tthbr0";

// Everything a failed ADD could leave behind.
struct Snapshot {
  std::set<std::string> host_links, ctr_links, host_addrs, nat_rules, files;
  bool operator==(const Snapshot&) const = default;
};

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& e : s) out += "\n  " + e;
  return out;
}

std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  return os << "host links:" << join(s.host_links) << "\ncontainer links:" << join(s.ctr_links)
            << "\nhost addresses:" << join(s.host_addrs) << "\nnat rules:" << join(s.nat_rules)
            << "\nfiles:" << join(s.files);
}

class HostileBridgeTest : public NetnsTest {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    ctr_ = &add_container();
  }

  json conf(const std::string& patch = "") const {
    json c = {{"cniVersion", "1.0.0"},
              {"name", "hostile"},
              {"type", "tether"},
              {"bridge", kBridge},
              {"isGateway", true},
              {"ipMasq", true},
              {"capabilities", {{"portMappings", true}, {"mac", true}}},
              {"stateDir", data_dir_ + "/.state"},  // never the host's /run/tether
              {"ipam",
               {{"type", "tether-ipam"},
                {"dataDir", data_dir_},
                {"ranges", json::parse(R"([[{"subnet":"10.67.0.0/24"}]])")}}}};
    if (!patch.empty()) c.merge_patch(json::parse(patch));
    return c;
  }

  std::set<std::string> names(TestNetns& ns, const std::string& cmd, const char* key) {
    std::string out;
    EXPECT_EQ(ns.exec(cmd, &out), 0) << out;
    std::set<std::string> s;
    const json j = json::parse(out.empty() ? "[]" : out, nullptr, false);
    for (const auto& e : j) {
      if (std::string(key) == "addr") {
        for (const auto& a : e.value("addr_info", json::array()))
          s.insert(e.value("ifname", "") + " " + a.value("local", "") + "/" + std::to_string(a.value("prefixlen", 0)));
      } else {
        s.insert(e.value(key, "") + (e.contains("master") ? " master " + e.value("master", "") : ""));
      }
    }
    return s;
  }

  Snapshot snapshot() {
    Snapshot s;
    s.host_links = names(host(), "ip -j link show", "ifname");
    s.ctr_links = names(*ctr_, "ip -j link show", "ifname");
    s.host_addrs = names(host(), "ip -j addr show", "addr");
    std::string out;
    host().exec("iptables-legacy-save -t nat 2>/dev/null; ip6tables-legacy-save -t nat 2>/dev/null", &out);
    std::istringstream lines(out);
    for (std::string l; std::getline(lines, l);)
      if (l.find("TETHER") != std::string::npos || l.find("tether") != std::string::npos) s.nat_rules.insert(l);
    for (const auto& e : fs::recursive_directory_iterator(data_dir_)) s.files.insert(e.path().string());
    return s;
  }

  // What the runtime's DEL after the refused ADD gets: success (the spec's DEL of what is not there:
  // a missing netns, a config tether cannot build), or, for input that cannot be read at all
  // (malformed env or stdin, a key of the wrong type or out of its range), the ADD's error again.
  enum class Del { kSucceeds, kSameError };

  // Runs ADD with the given env changes / config and checks the error and that nothing changed.
  void expect_rejected(const std::string& patch, int code, const std::string& must_name, Del del_outcome,
                       const std::map<std::string, std::string>& env_changes = {}, const std::string& raw_stdin = {}) {
    const Snapshot before = snapshot();
    auto env = cni_env("ADD", "hostile1", ctr_->path());
    for (const auto& [k, v] : env_changes) env[k] = v;
    const PluginRun r = tether(env, raw_stdin.empty() ? conf(patch).dump() : raw_stdin);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const json j = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "stdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(j.value("code", -1), code) << r.out;
    EXPECT_THAT(j.value("msg", ""), HasSubstr(must_name)) << r.out;
    const Snapshot after = snapshot();
    EXPECT_EQ(before, after) << "ADD of '" << patch << "' left something behind";
    // DEL after a failed ADD (runtimes send it): its outcome as above, and it leaves nothing either.
    env["CNI_COMMAND"] = "DEL";
    const PluginRun del = tether(env, raw_stdin.empty() ? conf(patch).dump() : raw_stdin);
    if (del_outcome == Del::kSucceeds) {
      EXPECT_EQ(del.exit_code, 0) << "DEL after the refused ADD of '" << patch << "': " << del.out << del.err;
    } else {
      EXPECT_EQ(del.exit_code, 1) << "DEL after the refused ADD of '" << patch << "': " << del.out << del.err;
      const json d = json::parse(del.out, nullptr, false);
      EXPECT_EQ(d.is_object() ? d.value("code", -1) : -1, code) << del.out;
      EXPECT_THAT(d.is_object() ? d.value("msg", "") : "", HasSubstr(must_name)) << del.out;
    }
    EXPECT_EQ(snapshot(), before);
  }

  std::string data_dir_;
  TestNetns* ctr_ = nullptr;
};

// The snapshot sees what an ADD does (so the "nothing changed" checks below can fail).
TEST_F(HostileBridgeTest, SnapshotSeesASuccessfulAdd) {
  const Snapshot before = snapshot();
  const PluginRun r = tether(cni_env("ADD", "valid1", ctr_->path()), conf().dump());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Snapshot after = snapshot();
  EXPECT_NE(before.host_links, after.host_links);
  EXPECT_NE(before.ctr_links, after.ctr_links);
  EXPECT_NE(before.files, after.files);
  EXPECT_NE(before.nat_rules, after.nat_rules);
  const PluginRun d = tether(cni_env("DEL", "valid1", ctr_->path()), conf().dump());
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
}

// ADD refuses what tether cannot build (code 7) and creates nothing; the runtime then sends DEL,
// which must succeed (the spec's DEL of resources that are gone), or the pod never terminates.
TEST_F(HostileBridgeTest, DelSucceedsForAConfigAddRefused) {
  for (const auto& [patch, key] :
       std::vector<std::pair<std::string, std::string>>{{R"({"macspoofchk":true,"firewallBackend":"iptables"})",
                                                         "macspoofchk"},
                                                        {R"({"vlan":100})",
                                                         "vlan"},  // with the base config's isGateway
                                                        {R"({"ipMasqBackend":"pf"})", "ipMasqBackend"},
                                                        {R"({"ipam":{"type":"tether"}})", "ipam.type"},
                                                        {R"({"runtimeConfig":{"mac":"01:00:5e:00:00:01"}})",
                                                         "runtimeConfig.mac"}}) {
    SCOPED_TRACE(patch);
    expect_rejected(patch, 7, key, Del::kSucceeds);
    for (int i = 0; i < 2; ++i) {
      const PluginRun del = tether(cni_env("DEL", "hostile1", ctr_->path()), conf(patch).dump());
      EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
    }
  }
}

// ---- CNI_NETNS that is not a network namespace: code 4 naming CNI_NETNS ----

TEST_F(HostileBridgeTest, NetnsIsARegularFile) {
  const std::string file = temp_dir() + "/not-a-netns";
  std::ofstream(file) << "x";
  expect_rejected("", 4, "CNI_NETNS", Del::kSucceeds, {{"CNI_NETNS", file}});
}

TEST_F(HostileBridgeTest, NetnsIsADirectory) {
  expect_rejected("", 4, "CNI_NETNS", Del::kSucceeds, {{"CNI_NETNS", temp_dir()}});
}

TEST_F(HostileBridgeTest, NetnsDoesNotExist) {
  expect_rejected("", 4, "CNI_NETNS", Del::kSucceeds, {{"CNI_NETNS", "/var/run/netns/tether-hostile-missing"}});
}

TEST_F(HostileBridgeTest, NetnsIsAnotherNamespaceType) {
  // nsfs, but a mount namespace: passes a filesystem-magic check, fails setns(CLONE_NEWNET).
  expect_rejected("", 4, "CNI_NETNS", Del::kSucceeds, {{"CNI_NETNS", "/proc/self/ns/mnt"}});
}

TEST_F(HostileBridgeTest, NetnsIsAProcFile) {
  // procfs, but not a namespace at all.
  expect_rejected("", 4, "CNI_NETNS", Del::kSucceeds, {{"CNI_NETNS", "/proc/version"}});
}

// ---- env: names that would become paths or links ----

TEST_F(HostileBridgeTest, InterfaceNames) {
  for (const char* ifname : {"eth0123456789abc", "a/b", "..", "e:1", "with space"})
    expect_rejected("", 4, "CNI_IFNAME", Del::kSameError, {{"CNI_IFNAME", ifname}});
}

TEST_F(HostileBridgeTest, ContainerIds) {
  for (const char* id : {"../../escape", "a/b", ".hidden", ".."})
    expect_rejected("", 4, "CNI_CONTAINERID", Del::kSameError, {{"CNI_CONTAINERID", id}});
}

// ---- numbers out of range, floats where integers belong ----

TEST_F(HostileBridgeTest, MtuOutOfRange) {
  for (const char* mtu : {"70000", "-1", "1500.5", "\"1500\"", "1e10"})
    expect_rejected(std::string(R"({"mtu":)") + mtu + "}", 7, "'mtu'", Del::kSameError);
  // A valid value for the key that no link can have: refused when building, so DEL goes ahead.
  expect_rejected(R"({"mtu":67})", 7, "'mtu'", Del::kSucceeds);
}

TEST_F(HostileBridgeTest, VlanOutOfRange) {
  for (const char* vlan : {"4095", "-1", "1.5", "\"10\""})
    expect_rejected(std::string(R"({"isGateway":false,"vlan":)") + vlan + "}", 7, "'vlan'", Del::kSameError);
  expect_rejected(R"({"isGateway":false,"vlanTrunk":[{"minID":10,"maxID":5000}]})", 7, "vlanTrunk[0]", Del::kSameError);
  expect_rejected(R"({"isGateway":false,"vlanTrunk":[{"minID":20,"maxID":10}]})", 7, "vlanTrunk[0]", Del::kSameError);
}

TEST_F(HostileBridgeTest, SubnetPrefixOutOfRange) {
  for (const char* subnet : {"10.67.0.0/33", "10.67.0.0/-1", "fd00:67::/129", "10.67.0.0/31"})
    expect_rejected(std::string(R"({"ipam":{"ranges":[[{"subnet":")") + subnet + "\"}]]}}", 7,
                    "ipam.ranges[0][0].subnet", Del::kSucceeds);
}

TEST_F(HostileBridgeTest, PortMappings) {
  expect_rejected(R"({"runtimeConfig":{"portMappings":[{"hostPort":70000,"containerPort":80}]}})", 7,
                  "runtimeConfig.portMappings[0].hostPort", Del::kSameError);
  expect_rejected(R"({"runtimeConfig":{"portMappings":[{"HostPort":8080,"ContainerPort":0}]}})", 7,
                  "runtimeConfig.portMappings[0].ContainerPort", Del::kSameError);
  expect_rejected(R"({"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80},
                      {"hostPort":8080,"containerPort":80}]}})",
                  7, "runtimeConfig.portMappings[1]", Del::kSameError);
  expect_rejected(R"({"runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"udp"},
                      {"HostPort":8080,"ContainerPort":90,"Protocol":"UDP","HostIP":"10.67.0.1"}]}})",
                  7, "runtimeConfig.portMappings[1]", Del::kSameError);
}

// ---- names ----

TEST_F(HostileBridgeTest, BridgeNames) {
  for (const char* br : {"sixteen-chars-xx", "a/b", "..", "br 0", "br:0"})
    expect_rejected(std::string(R"({"bridge":")") + br + "\"}", 7, "'bridge'", Del::kSameError);
}

TEST_F(HostileBridgeTest, BridgeNameIsAnExistingNonBridgeLink) {
  std::string out;
  ASSERT_EQ(host().exec(std::string("ip link add ") + kBridge + " type veth peer name tthbr0p", &out), 0) << out;
  expect_rejected("", 7, "bridge 'tthbr0'", Del::kSucceeds);
}

TEST_F(HostileBridgeTest, NetworkNames) {
  for (const char* name : {"../../escape", "a/b", "..", ".hidden", "nul\\u0000byte"})
    expect_rejected(std::string(R"({"name":")") + name + "\"}", 7, "'name'", Del::kSameError);
}

TEST_F(HostileBridgeTest, MulticastMac) {
  expect_rejected(R"({"runtimeConfig":{"mac":"ff:ff:ff:ff:ff:ff"}})", 7, "runtimeConfig.mac", Del::kSucceeds);
  expect_rejected(R"({"runtimeConfig":{"mac":"01:00:5e:00:00:01"}})", 7, "runtimeConfig.mac", Del::kSucceeds);
}

// ---- malformed stdin ----

TEST_F(HostileBridgeTest, OversizedAndDeepStdin) {
  const std::string head = R"({"cniVersion":"1.0.0","name":"hostile","type":"tether","x":)";
  expect_rejected("", 6, "limit", Del::kSameError, {}, head + "\"" + std::string(5 << 20, 'p') + "\"}");
  expect_rejected("", 6, "nests", Del::kSameError, {},
                  head + std::string(300000, '[') + std::string(300000, ']') + "}");
}

// ---- a subnet that overlaps the host's routes: allowed, with a warning ----

TEST_F(HostileBridgeTest, SubnetOverlappingAHostRouteWarns) {
  std::string out;
  ASSERT_EQ(host().exec("ip link add ttup0 type veth peer name ttup0p && ip link set ttup0 up && ip link set ttup0p up "
                        "&& "
                        "ip route add 10.67.0.0/16 dev ttup0",
                        &out),
            0)
      << out;
  const PluginRun r = tether(cni_env("ADD", "overlap1", ctr_->path()), conf().dump());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::string err = r.err;
  for (char& c : err) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_THAT(err, HasSubstr("overlap")) << "no warning about 10.67.0.0/24 overlapping the host route 10.67.0.0/16: "
                                         << r.err;
  EXPECT_THAT(r.err, HasSubstr("10.67.0.0/16")) << r.err;
  const PluginRun d = tether(cni_env("DEL", "overlap1", ctr_->path()), conf().dump());
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
}

}  // namespace
}  // namespace tether::testing
