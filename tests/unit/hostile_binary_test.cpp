// Hostile input against the real binaries (tether and tether-ipam), rejected at the CNI boundary or
// in the IPAM config: every case must exit 1 with the spec's code (4 naming the env variable, 3 for
// an empty container ID, 6 malformed, 7 naming the config key), and leave the IPAM dataDir empty.
// The binaries run in a private network namespace (hostile_exec.hpp), so nothing here can touch
// the host. Bridge-specific keys (mtu, vlan, bridge) and CNI_NETNS checks are in
// tests/integration/hostile_bridge_test.cpp, where the namespaces can be inspected.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/hostile_exec.hpp"

namespace tether::hostile {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kUnset = "\x01unset";

// The multi-megabyte inputs are written into the case table as short tokens (repeat(c, n)) and
// expanded by the test that uses them: gtest builds every parameter at registration, in every
// process, and ctest starts one process per test, so literal payloads cost each of ~400 processes
// copies of several MiB before any test ran. Token: \x02, the character, the count, \x03.
std::string repeat(char c, std::size_t n) { return std::string("\x02") + c + std::to_string(n) + "\x03"; }

std::string expand(const std::string& s) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t t; (t = s.find('\x02', pos)) != std::string::npos;) {
    const std::size_t end = s.find('\x03', t);
    out.append(s, pos, t - pos);
    out.append(std::stoul(s.substr(t + 2, end - t - 2)), s[t + 1]);
    pos = end + 1;
  }
  return out.append(s, pos);
}

struct Case {
  std::string name;
  std::map<std::string, std::string> env;  // overrides; kUnset removes the variable
  std::string stdin_override;              // when non-empty, replaces the generated config
  std::string patch;                       // JSON merge patch for the config (null removes a key)
  int code;
  std::string must_name;  // substring the message must contain
};

class HostileDirs : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tether-hostile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    // Deep under root_: a name that climbs out of dataDir ("../../x") would land inside root_.
    data_dir_ = root_ + "/a/b/data";
    fs::create_directories(data_dir_);
  }
  void TearDown() override { fs::remove_all(root_); }

  json conf() const {
    return {{"cniVersion", "1.0.0"},
            {"name", "hostile"},
            {"type", "tether"},
            {"bridge", "tthostile0"},
            {"capabilities", {{"portMappings", true}}},
            {"ipam",
             {{"type", "tether-ipam"},
              {"dataDir", data_dir_},
              {"ranges", json::array({json::array({{{"subnet", "10.66.0.0/24"}}})})}}}};
  }
  std::map<std::string, std::string> env() const {
    return {{"CNI_COMMAND", "ADD"},
            {"CNI_CONTAINERID", "hostile1"},
            {"CNI_NETNS", "/var/run/netns/tether-hostile-none"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", TETHER_BIN_DIR},
            {"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}};
  }
  // Everything under root_ other than the (empty) dataDir and its parents.
  std::vector<std::string> residue() const {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root_)) {
      const std::string p = e.path().string();
      if (p != root_ + "/a" && p != root_ + "/a/b" && p != data_dir_) out.push_back(p);
    }
    return out;
  }

  std::string root_, data_dir_;
};

class HostileBinary : public HostileDirs, public ::testing::WithParamInterface<std::tuple<const char*, Case>> {};

TEST_P(HostileBinary, RejectedWithCodeAndNoSideEffect) {
  const auto& [binary, c] = GetParam();
  auto vars = env();
  for (const auto& [k, v] : c.env) {
    if (v == kUnset)
      vars.erase(k);
    else
      vars[k] = expand(v);
  }
  std::string in = expand(c.stdin_override);
  if (in.empty()) {
    json j = conf();
    if (!c.patch.empty()) j.merge_patch(json::parse(expand(c.patch)));
    in = j.dump();
  }
  const RunResult r = exec_plugin(bin(binary), vars, in);
  EXPECT_EQ(r.rc, 1) << r.out.substr(0, 500) << r.err.substr(0, 500);
  ASSERT_TRUE(r.j.is_object()) << "stdout is not one JSON object: " << r.out.substr(0, 500) << r.err.substr(0, 500);
  EXPECT_EQ(r.code(), c.code) << r.out.substr(0, 500);
  EXPECT_THAT(r.msg(), HasSubstr(c.must_name)) << r.out.substr(0, 500);
  EXPECT_LT(r.out.size(), 2000u) << "the error echoes the whole hostile value";
  EXPECT_THAT(residue(), ::testing::IsEmpty());
}

// The harness can see side effects: a valid ADD leaves a lease, which DEL removes.
TEST_F(HostileDirs, ValidIpamAddLeavesALeaseThatDelRemoves) {
  const char* binary = "tether-ipam";
  auto vars = env();
  const RunResult add = exec_plugin(bin(binary), vars, conf().dump());
  ASSERT_EQ(add.rc, 0) << add.out << add.err;
  EXPECT_THAT(residue(), ::testing::Contains(data_dir_ + "/hostile/10.66.0.2"));
  vars["CNI_COMMAND"] = "DEL";
  const RunResult del = exec_plugin(bin(binary), vars, conf().dump());
  ASSERT_EQ(del.rc, 0) << del.out << del.err;
  for (const auto& p : residue()) EXPECT_FALSE(p.ends_with("/10.66.0.2")) << p;
}

std::string nested(std::size_t depth) { return repeat('[', depth) + repeat(']', depth); }

std::string ranges(const std::string& range_members) { return R"({"ipam":{"ranges":[[{)" + range_members + "}]]}}"; }
std::string port_mappings(const std::string& list) { return R"({"runtimeConfig":{"portMappings":[)" + list + "]}}"; }
std::string route(const std::string& members) { return R"({"ipam":{"routes":[{)" + members + "}]}}"; }

const char* const kBinaries[] = {"tether", "tether-ipam"};

std::vector<Case> boundary_cases() {
  const std::string prefix = R"({"cniVersion":"1.0.0","name":"hostile","type":"tether","x":)";
  return {
      // container IDs outside the spec's character set: path traversal into dataDir
      {"IdTraversal", {{"CNI_CONTAINERID", "../../escape"}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdSlash", {{"CNI_CONTAINERID", "a/b"}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdDotDot", {{"CNI_CONTAINERID", ".."}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdLeadingDot", {{"CNI_CONTAINERID", ".hidden"}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdSpace", {{"CNI_CONTAINERID", "two words"}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdNewline", {{"CNI_CONTAINERID", "a\nb"}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdHuge", {{"CNI_CONTAINERID", repeat('f', 100000)}}, "", "", 4, "CNI_CONTAINERID"},
      {"IdEmpty", {{"CNI_CONTAINERID", ""}}, "", "", 3, "CNI_CONTAINERID"},
      {"IdUnset", {{"CNI_CONTAINERID", kUnset}}, "", "", 4, "CNI_CONTAINERID"},
      // interface names
      {"IfnameSixteen", {{"CNI_IFNAME", "eth0123456789abc"}}, "", "", 4, "CNI_IFNAME"},
      {"IfnameSlash", {{"CNI_IFNAME", "a/b"}}, "", "", 4, "CNI_IFNAME"},
      {"IfnameDotDot", {{"CNI_IFNAME", ".."}}, "", "", 4, "CNI_IFNAME"},
      {"IfnameHuge", {{"CNI_IFNAME", repeat('e', 50000)}}, "", "", 4, "CNI_IFNAME"},
      {"NetnsUnset", {{"CNI_NETNS", kUnset}}, "", "", 4, "CNI_NETNS"},
      {"ArgsMalformed", {{"CNI_ARGS", "IgnoreUnknown=1;NOEQUALS"}}, "", "", 4, "CNI_ARGS"},
      // network names outside the character set
      {"NameTraversal", {}, "", R"({"name":"../../escape"})", 7, "'name'"},
      {"NameSlash", {}, "", R"({"name":"a/b"})", 7, "'name'"},
      {"NameDotDot", {}, "", R"({"name":".."})", 7, "'name'"},
      {"NameLeadingDot", {}, "", R"({"name":".hidden"})", 7, "'name'"},
      {"NameSpace", {}, "", R"({"name":"two words"})", 7, "'name'"},
      {"NameNul", {}, "", R"({"name":"nul\u0000byte"})", 7, "'name'"},
      {"NameHuge", {}, "", R"({"name":")" + repeat('n', 1 << 20) + "\"}", 7, "'name'"},
      {"NameMissing", {}, "", R"({"name":null})", 7, "'name'"},
      // malformed stdin
      {"StdinOver4MiB",
       {},
       R"({"cniVersion":"1.0.0","name":"hostile","pad":")" + repeat('p', 5 << 20) + "\"}",
       "",
       6,
       "limit"},
      {"DeepNesting", {}, prefix + nested(500000) + "}", "", 6, "nests"},
      {"NumberOverflow", {}, prefix + "1e400}", "", 6, "number"},
      {"NotJson", {}, R"({"cniVersion":"1.0.0",)", "", 6, "parse"},
      {"NotAnObject", {}, "[1,2,3]", "", 6, "object"},
      // numbers, types and conflicts in the CNI layer's keys
      {"HostPortZero",
       {},
       "",
       port_mappings(R"({"hostPort":0,"containerPort":80})"),
       7,
       "runtimeConfig.portMappings[0].hostPort"},
      {"HostPortTooBig",
       {},
       "",
       port_mappings(R"({"HostPort":65536,"ContainerPort":80})"),
       7,
       "runtimeConfig.portMappings[0].HostPort"},
      {"ContainerPortFloat",
       {},
       "",
       port_mappings(R"({"hostPort":80,"containerPort":80.5})"),
       7,
       "runtimeConfig.portMappings[0].containerPort"},
      {"PortDuplicate",
       {},
       "",
       port_mappings(R"({"hostPort":8080,"containerPort":80},{"hostPort":8080,"containerPort":80})"),
       7,
       "runtimeConfig.portMappings[1]"},
      {"PortConflict",
       {},
       "",
       port_mappings(
           R"({"hostPort":8080,"containerPort":80},{"HostPort":8080,"ContainerPort":81,"HostIP":"10.0.0.1"})"),
       7,
       "runtimeConfig.portMappings[1]"},
      {"DnsNotObject", {}, "", R"({"dns":"8.8.8.8"})", 7, "dns"},
      {"VersionUnsupported", {}, "", R"({"cniVersion":"9.9.9"})", 1, "9.9.9"},
  };
}

// IPAM keys: checked by tether-ipam's plan before it touches the store.
std::vector<Case> ipam_cases() {
  return {
      {"PrefixTooLong", {}, "", ranges(R"("subnet":"10.66.0.0/33")"), 7, "ipam.ranges[0][0].subnet"},
      {"PrefixNegative", {}, "", ranges(R"("subnet":"10.66.0.0/-1")"), 7, "ipam.ranges[0][0].subnet"},
      {"PrefixV6TooLong", {}, "", ranges(R"("subnet":"fd00::/129")"), 7, "ipam.ranges[0][0].subnet"},
      {"SubnetTooSmall", {}, "", ranges(R"("subnet":"10.66.0.0/31")"), 7, "ipam.ranges[0][0].subnet"},
      {"SubnetHostBits", {}, "", ranges(R"("subnet":"10.66.0.1/24")"), 7, "ipam.ranges[0][0].subnet"},
      {"SubnetNotString", {}, "", ranges(R"("subnet":24)"), 7, "ipam.ranges[0][0].subnet"},
      {"RangeStartOutside", {}, "", ranges(R"("subnet":"10.66.0.0/24","rangeStart":"10.67.0.5")"), 7, "rangeStart"},
      {"RangeReversed",
       {},
       "",
       ranges(R"("subnet":"10.66.0.0/24","rangeStart":"10.66.0.9","rangeEnd":"10.66.0.5")"),
       7,
       "rangeEnd"},
      {"RouteMtuTooBig", {}, "", route(R"("dst":"0.0.0.0/0","mtu":70000)"), 7, "ipam.routes[0].mtu"},
      {"RoutePrefixTooLong", {}, "", route(R"("dst":"0.0.0.0/33")"), 7, "ipam.routes[0].dst"},
      {"RoutePriorityFloat", {}, "", route(R"("dst":"0.0.0.0/0","priority":1.5)"), 7, "ipam.routes[0].priority"},
      {"DataDirNotString", {}, "", R"({"ipam":{"dataDir":5}})", 7, "ipam.dataDir"},
      {"RequestedIpOutside",
       {},
       "",
       R"({"capabilities":{"ips":true},"runtimeConfig":{"ips":["10.99.0.5"]}})",
       7,
       "runtimeConfig.ips"},
      {"CniArgsIpInvalid", {{"CNI_ARGS", "IgnoreUnknown=1;IP=10.66.0.300"}}, "", "", 4, "CNI_ARGS"},
  };
}

std::string case_name(const ::testing::TestParamInfo<std::tuple<const char*, Case>>& info) {
  std::string b = std::get<0>(info.param);
  return (b == "tether" ? "Bridge_" : "Ipam_") + std::get<1>(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Boundary, HostileBinary,
                         ::testing::Combine(::testing::ValuesIn(kBinaries), ::testing::ValuesIn(boundary_cases())),
                         case_name);
// The bridge binary gets as far as delegating IPAM only with a real container netns: those runs
// are in tests/integration/hostile_bridge_test.cpp.
INSTANTIATE_TEST_SUITE_P(IpamConfig, HostileBinary,
                         ::testing::Combine(::testing::Values("tether-ipam"), ::testing::ValuesIn(ipam_cases())),
                         case_name);

}  // namespace
}  // namespace tether::hostile
