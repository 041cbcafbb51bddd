#include <gtest/gtest.h>

#include <map>
#include <string>

#include "lib/cni/args.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"

namespace tether::cni {
namespace {

using Vars = std::map<std::string, std::string>;

EnvLookup lookup_of(const Vars& vars) {
  return [vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Vars full_env(const std::string& command) {
  return {{"CNI_COMMAND", command}, {"CNI_CONTAINERID", "ctr-1"},    {"CNI_NETNS", "/var/run/netns/x"},
          {"CNI_IFNAME", "eth0"},   {"CNI_ARGS", "IgnoreUnknown=1"}, {"CNI_PATH", "/opt/cni/bin"}};
}

// Returns the error (code, message) parse_env throws, or code -1 when it succeeds.
std::pair<int, std::string> env_error(const Vars& vars) {
  try {
    parse_env(lookup_of(vars));
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {-1, ""};
}

TEST(CniEnv, CommandNamesRoundTrip) {
  for (const char* name : {"ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS"}) {
    auto c = parse_command(name);
    ASSERT_TRUE(c) << name;
    EXPECT_STREQ(command_name(*c), name);
  }
  EXPECT_FALSE(parse_command("add"));
  EXPECT_FALSE(parse_command(""));
  EXPECT_FALSE(parse_command("ADD "));
}

TEST(CniEnv, FullAddEnvParses) {
  const Env e = parse_env(lookup_of(full_env("ADD")));
  EXPECT_EQ(e.command, Command::Add);
  EXPECT_EQ(e.container_id, "ctr-1");
  EXPECT_EQ(e.netns, "/var/run/netns/x");
  EXPECT_EQ(e.ifname, "eth0");
  EXPECT_EQ(e.args, "IgnoreUnknown=1");
  EXPECT_EQ(e.path, "/opt/cni/bin");
  EXPECT_FALSE(e.delegated);
  auto vars = full_env("DEL");
  vars["TETHER_DELEGATED"] = "1";
  EXPECT_TRUE(parse_env(lookup_of(vars)).delegated);
}

TEST(CniEnv, MissingCommandIsCode4) {
  auto [code, msg] = env_error({});
  EXPECT_EQ(code, kInvalidEnv);
  EXPECT_NE(msg.find("CNI_COMMAND"), std::string::npos) << msg;
}

TEST(CniEnv, UnknownCommandNamesValue) {
  auto [code, msg] = env_error({{"CNI_COMMAND", "FROB"}});
  EXPECT_EQ(code, kInvalidEnv);
  EXPECT_NE(msg.find("CNI_COMMAND"), std::string::npos) << msg;
  EXPECT_NE(msg.find("FROB"), std::string::npos) << msg;
}

TEST(CniEnv, VersionGcStatusNeedOnlyCommand) {
  for (const char* cmd : {"VERSION", "GC", "STATUS"}) {
    auto [code, msg] = env_error({{"CNI_COMMAND", cmd}});
    EXPECT_EQ(code, -1) << cmd << ": " << msg;
  }
}

struct MissingCase {
  const char* command;
  const char* var;
};

class CniEnvMissing : public ::testing::TestWithParam<MissingCase> {};

TEST_P(CniEnvMissing, EachMissingVariableIsCode4NamingIt) {
  Vars vars = full_env(GetParam().command);
  vars.erase(GetParam().var);
  auto [code, msg] = env_error(vars);
  EXPECT_EQ(code, kInvalidEnv) << msg;
  EXPECT_NE(msg.find(GetParam().var), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(Verbs, CniEnvMissing,
                         ::testing::Values(MissingCase{"ADD", "CNI_CONTAINERID"}, MissingCase{"ADD", "CNI_NETNS"},
                                           MissingCase{"ADD", "CNI_IFNAME"}, MissingCase{"CHECK", "CNI_CONTAINERID"},
                                           MissingCase{"CHECK", "CNI_NETNS"}, MissingCase{"CHECK", "CNI_IFNAME"},
                                           MissingCase{"DEL", "CNI_CONTAINERID"}, MissingCase{"DEL", "CNI_IFNAME"}),
                         [](const auto& info) {
                           return std::string(info.param.command) + "_" + std::string(info.param.var).substr(4);
                         });

TEST(CniEnv, AllMissingVariablesAreNamedTogether) {
  auto [code, msg] = env_error({{"CNI_COMMAND", "ADD"}});
  EXPECT_EQ(code, kInvalidEnv);
  EXPECT_NE(msg.find("CNI_CONTAINERID,CNI_NETNS,CNI_IFNAME"), std::string::npos) << msg;
}

TEST(CniEnv, DelAllowsEmptyOrMissingNetns) {
  Vars vars = full_env("DEL");
  vars["CNI_NETNS"] = "";
  EXPECT_EQ(env_error(vars).first, -1);
  vars.erase("CNI_NETNS");
  EXPECT_EQ(env_error(vars).first, -1);
  EXPECT_EQ(parse_env(lookup_of(vars)).netns, "");
}

TEST(CniEnv, EmptyNetnsForAddIsMissing) {
  Vars vars = full_env("ADD");
  vars["CNI_NETNS"] = "";
  auto [code, msg] = env_error(vars);
  EXPECT_EQ(code, kInvalidEnv);
  EXPECT_NE(msg.find("CNI_NETNS"), std::string::npos);
}

TEST(CniEnv, EmptyContainerIdIsCode3) {
  for (const char* cmd : {"ADD", "DEL", "CHECK"}) {
    Vars vars = full_env(cmd);
    vars["CNI_CONTAINERID"] = "";
    auto [code, msg] = env_error(vars);
    EXPECT_EQ(code, kUnknownContainer) << cmd << ": " << msg;
  }
}

TEST(CniEnv, InvalidContainerIdIsCode4) {
  for (const char* id : {"-leading-dash", "has space", "a/b", "../x", "_x", "x;y", "ünïcode"}) {
    Vars vars = full_env("ADD");
    vars["CNI_CONTAINERID"] = id;
    auto [code, msg] = env_error(vars);
    EXPECT_EQ(code, kInvalidEnv) << id;
    EXPECT_NE(msg.find("CNI_CONTAINERID"), std::string::npos) << msg;
    EXPECT_NE(msg.find(id), std::string::npos) << msg;
  }
}

TEST(CniEnv, InvalidIfnameIsCode4) {
  for (const char* ifname : {".", "..", "eth/0", "eth:0", "eth 0", "eth\t0", "sixteen-chars-xx"}) {
    Vars vars = full_env("DEL");
    vars["CNI_IFNAME"] = ifname;
    auto [code, msg] = env_error(vars);
    EXPECT_EQ(code, kInvalidEnv) << ifname;
    EXPECT_NE(msg.find("CNI_IFNAME"), std::string::npos) << msg;
  }
}

TEST(CniEnv, NameRules) {
  for (const char* ok : {"a", "0", "net1", "my-net_2.x", "A.b-C_d", "cnitool-0123456789abcdef0123"})
    EXPECT_TRUE(valid_name(ok)) << ok;
  for (const char* bad : {"", "-a", ".a", "_a", "a b", "a/b", "a\\b", "a:b", "a\n"})
    EXPECT_FALSE(valid_name(bad)) << bad;
  for (const char* ok : {"eth0", "e", "fifteen-chars-x", "veth.1", "eth-0_1"}) EXPECT_TRUE(valid_ifname(ok)) << ok;
  for (const char* bad : {"", ".", "..", "sixteen-chars-xx", "a/b", "a:b", "a b", "a\n"})
    EXPECT_FALSE(valid_ifname(bad)) << bad;
}

TEST(CniArgs, ParsesPairs) {
  const CniArgs a = parse_cni_args("IgnoreUnknown=1;K8S_POD_NAME=web-0;IP=10.0.0.5/24;EMPTY=;X=a=b");
  EXPECT_EQ(a.get("IgnoreUnknown"), "1");
  EXPECT_EQ(a.get("K8S_POD_NAME"), "web-0");
  EXPECT_EQ(a.get("IP"), "10.0.0.5/24");
  EXPECT_EQ(a.get("EMPTY"), "");
  EXPECT_EQ(a.get("X"), "a=b");
  EXPECT_EQ(a.get("MISSING"), std::nullopt);
  EXPECT_EQ(a.values.size(), 5u);
}

TEST(CniArgs, EmptyAndStraySeparators) {
  EXPECT_TRUE(parse_cni_args("").values.empty());
  EXPECT_TRUE(parse_cni_args(";").values.empty());
  const CniArgs a = parse_cni_args("A=1;;B=2;");
  EXPECT_EQ(a.values, (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}}));
}

TEST(CniArgs, UnknownKeysAcceptedWithoutIgnoreUnknown) {
  // cnitool passes CNI_ARGS raw; runtimes send K8S_* keys.
  EXPECT_EQ(parse_cni_args("K8S_POD_NAMESPACE=default").get("K8S_POD_NAMESPACE"), "default");
}

TEST(CniArgs, MalformedPairsAreCode4) {
  for (const char* bad : {"NOEQUALS", "A=1;B", "=value", "A=1;=2"}) {
    try {
      parse_cni_args(bad);
      FAIL() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), kInvalidEnv) << bad;
      EXPECT_NE(std::string(e.what()).find("CNI_ARGS"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace tether::cni
