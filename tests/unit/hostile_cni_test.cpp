// Hostile input at the CNI layer, in-process: nesting that would overflow the stack, numbers
// beyond double, over-long names, NUL and path characters, conflicting port mappings. Each must be
// a tether::Error with the spec's code and a message naming the key or variable.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "lib/cni/conf.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/skel.hpp"

namespace tether::cni {
namespace {

using ::testing::HasSubstr;

// Returns the error's code and message; fails the test when nothing is thrown.
std::pair<int, std::string> conf_error(const std::string& text) {
  try {
    parse_netconf(text);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  ADD_FAILURE() << "accepted: " << text.substr(0, 200);
  return {0, ""};
}

std::string nested(std::size_t depth, const std::string& leaf = "") {
  return std::string(depth, '[') + leaf + std::string(depth, ']');
}

std::string conf_with(const std::string& key, const std::string& value_json) {
  return R"({"cniVersion":"1.0.0","name":"n","type":"tether",")" + key + "\":" + value_json + "}";
}

TEST(HostileJson, DeepNestingIsMalformedNotAStackOverflow) {
  // Each of these crashed the plugin (stack overflow in json copy / dump) before the depth cap.
  for (const std::string& text :
       std::vector<std::string>{conf_with("ipam", nested(400000)), conf_with("x", nested(1000000)),
                                conf_with("dns", "{\"a\":" + nested(200000) + "}"),
                                conf_with("prevResult", "{\"ips\":" + nested(300000) + "}")}) {
    auto [code, msg] = conf_error(text);
    EXPECT_EQ(code, kDecodeFailure);
    EXPECT_THAT(msg, HasSubstr("nests"));
    EXPECT_THAT(msg, HasSubstr(std::to_string(kMaxJsonDepth)));
  }
}

TEST(HostileJson, NestingUpToTheLimitIsAccepted) {
  // The root object is level 1: an unknown key holding 63 arrays reaches exactly kMaxJsonDepth.
  EXPECT_NO_THROW(parse_netconf(conf_with("x", nested(kMaxJsonDepth - 1))));
  EXPECT_EQ(conf_error(conf_with("x", nested(kMaxJsonDepth))).first, kDecodeFailure);
  // Brackets inside strings (escaped quotes included) are not nesting.
  EXPECT_NO_THROW(
      parse_netconf(conf_with("x", "\"" + std::string(5000, '[') + "\\\"" + std::string(5000, '{') + "\"")));
}

TEST(HostileJson, NumberBeyondDoubleIsMalformed) {
  for (const char* n : {"1e400", "-1e400", "1E+999999"}) {
    auto [code, msg] = conf_error(conf_with("mtu", n));
    EXPECT_EQ(code, kDecodeFailure) << n << ": " << msg;
    EXPECT_THAT(msg, HasSubstr("failed to parse network config")) << n;
  }
}

TEST(HostileJson, BoundaryReportsOverflowAsCode6) {
  PluginFuncs funcs;
  funcs.add = [](const Request&) -> Result { throw std::logic_error("must not be reached"); };
  const std::map<std::string, std::string> vars = {{"CNI_COMMAND", "ADD"},
                                                   {"CNI_CONTAINERID", "c1"},
                                                   {"CNI_NETNS", "/var/run/netns/x"},
                                                   {"CNI_IFNAME", "eth0"}};
  const EnvLookup env = [&](const char* k) -> std::optional<std::string> {
    auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  for (const std::string& text : std::vector<std::string>{conf_with("mtu", "1e400"), conf_with("x", nested(500000))}) {
    std::istringstream in(text);
    std::ostringstream out;
    EXPECT_EQ(run_plugin(funcs, env, in, out), 1);
    const json j = json::parse(out.str());
    EXPECT_EQ(j["code"], kDecodeFailure) << out.str().substr(0, 300);
  }
}

TEST(HostileNames, NetworkNamesOutsideTheCharacterSet) {
  for (const std::string& name :
       std::vector<std::string>{"../../etc", "a/b", "..", ".", ".hidden", "-lead", "with space", "tab\\tname",
                                "nul\\u0000byte", "slash\\/escaped", "\\u002e\\u002e", "uni\\u00e9"}) {
    auto [code, msg] = conf_error(R"({"cniVersion":"1.0.0","name":")" + name + R"("})");
    EXPECT_EQ(code, kInvalidConfig) << name;
    EXPECT_THAT(msg, HasSubstr("'name'")) << name;
  }
}

TEST(HostileNames, OverlongNetworkNameIsRefusedWithoutEchoingIt) {
  const std::string name(1 << 20, 'a');  // valid characters, 1 MiB
  auto [code, msg] = conf_error(R"({"cniVersion":"1.0.0","name":")" + name + R"("})");
  EXPECT_EQ(code, kInvalidConfig);
  EXPECT_THAT(msg, HasSubstr("'name'"));
  EXPECT_THAT(msg, HasSubstr("1048576 characters"));
  EXPECT_LT(msg.size(), 300u);
  EXPECT_NO_THROW(parse_netconf(R"({"cniVersion":"1.0.0","name":")" + std::string(kMaxNameLength, 'a') + R"("})"));
}

Env env_with(const std::string& id, const std::string& ifname) {
  const std::map<std::string, std::string> vars = {{"CNI_COMMAND", "ADD"},
                                                   {"CNI_CONTAINERID", id},
                                                   {"CNI_NETNS", "/var/run/netns/x"},
                                                   {"CNI_IFNAME", ifname}};
  return parse_env([&](const char* k) -> std::optional<std::string> {
    auto it = vars.find(k);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

std::pair<int, std::string> env_error(const std::string& id, const std::string& ifname) {
  try {
    env_with(id, ifname);
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  ADD_FAILURE() << "accepted id '" << id.substr(0, 50) << "' ifname '" << ifname << "'";
  return {0, ""};
}

TEST(HostileEnv, ContainerIdsOutsideTheCharacterSet) {
  for (const std::string& id :
       std::vector<std::string>{"../x", "a/b", "..", ".", ".lead", "with space", std::string("nul\0x", 5),
                                std::string(kMaxNameLength + 1, 'f'), std::string(100000, 'f')}) {
    auto [code, msg] = env_error(id, "eth0");
    EXPECT_EQ(code, kInvalidEnv) << id.substr(0, 20);
    EXPECT_THAT(msg, HasSubstr("CNI_CONTAINERID")) << id.substr(0, 20);
    EXPECT_LT(msg.size(), 400u);
  }
  EXPECT_NO_THROW(env_with(std::string(kMaxNameLength, 'f'), "eth0"));
}

TEST(HostileEnv, BadInterfaceNames) {
  for (const std::string& ifname : std::vector<std::string>{"sixteen-chars-xx", std::string(5000, 'e'), "a/b", "/", ".",
                                                            "..", "e th0", "eth0:1", "tab\tx"}) {
    auto [code, msg] = env_error("c1", ifname);
    EXPECT_EQ(code, kInvalidEnv) << ifname.substr(0, 20);
    EXPECT_THAT(msg, HasSubstr("CNI_IFNAME")) << ifname.substr(0, 20);
    EXPECT_LT(msg.size(), 400u);
  }
  EXPECT_NO_THROW(env_with("c1", "fifteen-chars-x"));
}

TEST(HostileNumbers, PortsOutOfRangeOrNotWhole) {
  for (const char* pm : {R"({"hostPort":0,"containerPort":80})", R"({"hostPort":65536,"containerPort":80})",
                         R"({"hostPort":-1,"containerPort":80})", R"({"hostPort":80,"containerPort":70000})",
                         R"({"hostPort":80.5,"containerPort":80})", R"({"hostPort":"80","containerPort":80})",
                         R"({"HostPort":18446744073709551616,"ContainerPort":80})",
                         R"({"hostPort":80,"containerPort":80,"protocol":"icmp"})",
                         R"({"hostPort":80,"containerPort":80,"hostIP":"10.0.0.256"})"}) {
    auto [code, msg] = conf_error(conf_with("runtimeConfig", std::string(R"({"portMappings":[)") + pm + "]}"));
    EXPECT_EQ(code, kInvalidConfig) << pm << ": " << msg;
    EXPECT_THAT(msg, HasSubstr("runtimeConfig.portMappings[0]")) << pm;
  }
}

TEST(HostilePorts, DuplicateAndConflictingMappingsNameTheSecondEntry) {
  const struct {
    const char* mappings;
    const char* word;
  } cases[] = {
      {R"({"hostPort":8080,"containerPort":80},{"hostPort":8080,"containerPort":80})", "duplicates"},
      {R"({"hostPort":8080,"containerPort":80},{"HostPort":8080,"ContainerPort":81,"Protocol":"TCP"})", "conflicts"},
      {R"({"hostPort":53,"containerPort":53,"protocol":"udp","hostIP":"127.0.0.1"},
          {"hostPort":53,"containerPort":5353,"protocol":"udp"})",
       "conflicts"},
  };
  for (const auto& c : cases) {
    auto [code, msg] = conf_error(conf_with("runtimeConfig", std::string(R"({"portMappings":[)") + c.mappings + "]}"));
    EXPECT_EQ(code, kInvalidConfig) << c.mappings;
    EXPECT_THAT(msg, HasSubstr("runtimeConfig.portMappings[1]")) << msg;
    EXPECT_THAT(msg, HasSubstr(c.word)) << msg;
    EXPECT_THAT(msg, HasSubstr("runtimeConfig.portMappings[0]")) << msg;
  }
  // Same port on another protocol or another explicit address is fine.
  const NetConf ok = parse_netconf(conf_with("runtimeConfig", R"({"portMappings":[
      {"hostPort":53,"containerPort":53,"protocol":"udp"},{"hostPort":53,"containerPort":53,"protocol":"tcp"},
      {"hostPort":80,"containerPort":80,"hostIP":"10.0.0.1"},{"hostPort":80,"containerPort":81,"hostIP":"10.0.0.2"}]})"));
  EXPECT_EQ(ok.runtime_config.port_mappings.size(), 4u);
}

}  // namespace
}  // namespace tether::cni
