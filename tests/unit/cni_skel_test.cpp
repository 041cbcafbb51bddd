// The CNI boundary end to end through string streams: env + stdin in, JSON + exit code out.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>

#include "lib/cni/error.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/cni/skel.hpp"
#include "lib/log/log.hpp"

namespace tether::cni {
namespace {

using Vars = std::map<std::string, std::string>;

struct Outcome {
  int rc = -1;
  std::string out;
  json j;  // parsed stdout (null when empty)
};

class CniSkel : public ::testing::Test {
 protected:
  CniSkel() {
    funcs_.add = [this](const Request& req) {
      calls_ += "add;";
      last_ = req;
      Result r;
      r.interfaces = {{"eth0", "0a:58:0a:00:00:02", std::nullopt, req.env.netns, "", ""}};
      r.ips = {{*net::IpPrefix::parse("10.0.0.2/24"), net::IpAddress::parse("10.0.0.1"), 0}};
      return r;
    };
    funcs_.del = [this](const Request& req) {
      calls_ += "del;";
      last_ = req;
    };
    funcs_.check = [this](const Request& req) {
      calls_ += "check;";
      last_ = req;
    };
    funcs_.gc = [this](const Request& req) {
      calls_ += "gc;";
      last_ = req;
    };
    funcs_.status = [this](const Request& req) {
      calls_ += "status;";
      last_ = req;
    };
  }

  static Vars env(const std::string& cmd) {
    return {{"CNI_COMMAND", cmd},
            {"CNI_CONTAINERID", "c1"},
            {"CNI_NETNS", "/var/run/netns/c1"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/opt/cni/bin"}};
  }
  static std::string conf(const std::string& version) {
    return R"({"cniVersion": ")" + version + R"(", "name": "net1", "type": "tether"})";
  }

  Outcome run(const Vars& vars, const std::string& stdin_data) {
    std::istringstream in(stdin_data);
    std::ostringstream out;
    auto lookup = [&vars](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    Outcome o;
    o.rc = run_plugin(funcs_, lookup, in, out);
    o.out = out.str();
    if (!o.out.empty()) o.j = json::parse(o.out);
    return o;
  }

  void expect_error(const Outcome& o, int code, const std::string& fragment) {
    EXPECT_EQ(o.rc, 1) << o.out;
    ASSERT_TRUE(o.j.is_object()) << o.out;
    EXPECT_EQ(o.j["code"], code) << o.out;
    EXPECT_TRUE(o.j["cniVersion"].is_string()) << o.out;
    ASSERT_TRUE(o.j["msg"].is_string()) << o.out;
    EXPECT_NE(o.j["msg"].get<std::string>().find(fragment), std::string::npos) << o.out;
  }

  PluginFuncs funcs_;
  std::string calls_;
  Request last_;
};

TEST_F(CniSkel, VersionListsAllSevenVersions) {
  for (const std::string& in : {std::string(), std::string("{\"cniVersion\":\"1.0.0\"}"), std::string("garbage")}) {
    const Outcome o = run({{"CNI_COMMAND", "VERSION"}}, in);
    EXPECT_EQ(o.rc, 0);
    EXPECT_EQ(o.j["supportedVersions"],
              json::parse(R"(["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"])"));
  }
  EXPECT_EQ(run({{"CNI_COMMAND", "VERSION"}}, "").j["cniVersion"], "1.1.0");
  EXPECT_EQ(run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"0.4.0"})").j["cniVersion"], "0.4.0");
  EXPECT_EQ(run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"7.0.0"})").j["cniVersion"], "1.1.0");
  EXPECT_EQ(calls_, "");
}

TEST_F(CniSkel, VersionInfoHelper) {
  EXPECT_EQ(version_info("0.3.1")["cniVersion"], "0.3.1");
  EXPECT_EQ(version_info("")["cniVersion"], "1.1.0");
  EXPECT_EQ(version_info("")["supportedVersions"].size(), 7u);
}

TEST_F(CniSkel, AddPrintsResultInConfVersion) {
  for (const auto& v : supported_version_strings()) {
    calls_.clear();
    const Outcome o = run(env("ADD"), conf(v));
    EXPECT_EQ(o.rc, 0) << o.out;
    EXPECT_EQ(calls_, "add;");
    EXPECT_EQ(o.j["cniVersion"], v);
    EXPECT_EQ(o.j, result_to_json(funcs_.add(last_), *Version::parse(v)));
  }
  const Outcome legacy = run(env("ADD"), conf("0.2.0"));
  EXPECT_EQ(legacy.j["ip4"]["ip"], "10.0.0.2/24");
  const Outcome modern = run(env("ADD"), conf("0.4.0"));
  EXPECT_EQ(modern.j["ips"][0]["version"], "4");
}

TEST_F(CniSkel, RequestCarriesEnvStdinAndConf) {
  Vars vars = env("ADD");
  vars["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAME=p";
  const std::string stdin_data = conf("1.0.0");
  ASSERT_EQ(run(vars, stdin_data).rc, 0);
  EXPECT_EQ(last_.stdin_data, stdin_data);
  EXPECT_EQ(last_.env.container_id, "c1");
  EXPECT_EQ(last_.env.ifname, "eth0");
  EXPECT_EQ(last_.env.args, "IgnoreUnknown=1;K8S_POD_NAME=p");
  EXPECT_EQ(last_.conf.name, "net1");
  EXPECT_EQ(last_.conf.version, kV100);
}

TEST_F(CniSkel, OtherVerbsPrintNothing) {
  EXPECT_EQ(run(env("DEL"), conf("0.3.1")).out, "");
  EXPECT_EQ(run(env("CHECK"), conf("0.4.0")).out, "");
  EXPECT_EQ(run({{"CNI_COMMAND", "GC"}}, conf("1.1.0")).out, "");
  EXPECT_EQ(run({{"CNI_COMMAND", "STATUS"}}, conf("1.1.0")).out, "");
  EXPECT_EQ(calls_, "del;check;gc;status;");
}

TEST_F(CniSkel, DelWithEmptyNetnsWorks) {
  Vars vars = env("DEL");
  vars["CNI_NETNS"] = "";
  EXPECT_EQ(run(vars, conf("1.0.0")).rc, 0);
  EXPECT_EQ(calls_, "del;");
}

TEST_F(CniSkel, BadJsonIsCode6) {
  const Outcome o = run(env("ADD"), "{\"cniVersion\": ");
  expect_error(o, kDecodeFailure, "parse");
  EXPECT_EQ(o.j["cniVersion"], "1.1.0");
  EXPECT_EQ(calls_, "");
}

TEST_F(CniSkel, MissingEnvIsCode4) {
  Vars vars = env("ADD");
  vars.erase("CNI_IFNAME");
  const Outcome o = run(vars, conf("0.3.1"));
  expect_error(o, kInvalidEnv, "CNI_IFNAME");
  EXPECT_EQ(o.j["cniVersion"], "0.3.1");  // the caller's version when we can read it
  expect_error(run({}, conf("1.0.0")), kInvalidEnv, "CNI_COMMAND");
  expect_error(run({{"CNI_COMMAND", "BOGUS"}}, conf("1.0.0")), kInvalidEnv, "BOGUS");
  Vars empty_id = env("DEL");
  empty_id["CNI_CONTAINERID"] = "";
  expect_error(run(empty_id, conf("1.0.0")), kUnknownContainer, "CNI_CONTAINERID");
  EXPECT_EQ(calls_, "");
}

TEST_F(CniSkel, UnsupportedVersionIsCode1) {
  const Outcome o = run(env("ADD"), conf("0.5.0"));
  expect_error(o, kIncompatibleVersion, "0.5.0");
  EXPECT_EQ(o.j["cniVersion"], "1.1.0");
  EXPECT_EQ(calls_, "");
}

TEST_F(CniSkel, CheckNeeds040) {
  for (const char* v : {"0.1.0", "0.2.0", "0.3.0", "0.3.1"}) {
    const Outcome o = run(env("CHECK"), conf(v));
    expect_error(o, kIncompatibleVersion, "config version does not allow CHECK");
    EXPECT_EQ(o.j["cniVersion"], v);
  }
  EXPECT_EQ(calls_, "");
  EXPECT_EQ(run(env("CHECK"), conf("0.4.0")).rc, 0);
  EXPECT_EQ(calls_, "check;");
}

TEST_F(CniSkel, GcAndStatusNeed110) {
  for (const char* cmd : {"GC", "STATUS"}) {
    for (const char* v : {"0.4.0", "1.0.0"}) {
      expect_error(run({{"CNI_COMMAND", cmd}}, conf(v)), kIncompatibleVersion,
                   std::string("config version does not allow ") + cmd);
    }
  }
  EXPECT_EQ(calls_, "");
}

TEST_F(CniSkel, GcReceivesValidAttachments) {
  ASSERT_EQ(
      run({{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/x"}},
          R"({"cniVersion":"1.1.0","name":"net1","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}]})")
          .rc,
      0);
  EXPECT_EQ(last_.conf.valid_attachments.size(), 1u);
  EXPECT_EQ(last_.env.path, "/x");
}

TEST_F(CniSkel, ExceptionsMapToCodes) {
  funcs_.add = [](const Request&) -> Result { throw Error("no free addresses", 11, "range 10.0.0.0/30"); };
  Outcome o = run(env("ADD"), conf("1.0.0"));
  expect_error(o, 11, "no free addresses");
  EXPECT_EQ(o.j["details"], "range 10.0.0.0/30");
  EXPECT_EQ(o.j["cniVersion"], "1.0.0");

  funcs_.add = [](const Request&) -> Result { throw Error("unclassified"); };
  expect_error(run(env("ADD"), conf("1.0.0")), kInternal, "unclassified");

  funcs_.add = [](const Request&) -> Result { throw std::runtime_error("plain std"); };
  o = run(env("ADD"), conf("1.0.0"));
  expect_error(o, kInternal, "plain std");
  EXPECT_FALSE(o.j.contains("details"));

  funcs_.add = [](const Request&) -> Result { throw std::bad_alloc(); };
  expect_error(run(env("ADD"), conf("1.0.0")), kInternal, "out of memory");

  funcs_.add = [](const Request&) -> Result { return Result{}; };  // no IP: not expressible at 0.2.0
  expect_error(run(env("ADD"), conf("0.2.0")), kIncompatibleVersion, "0.1.0/0.2.0");

  funcs_.add = [](const Request&) -> Result {
    const json j = json::parse("{");
    return Result{};
  };
  expect_error(run(env("ADD"), conf("1.0.0")), kDecodeFailure, "parse");

  funcs_.del = [](const Request&) { throw 7; };
  expect_error(run(env("DEL"), conf("1.0.0")), kInternal, "unknown");
}

TEST_F(CniSkel, MissingFunctions) {
  PluginFuncs none;
  funcs_ = none;
  expect_error(run(env("ADD"), conf("1.0.0")), kInvalidEnv, "ADD");
  // A plugin without GC/STATUS has nothing to collect and is always ready.
  EXPECT_EQ(run({{"CNI_COMMAND", "GC"}}, conf("1.1.0")).rc, 0);
  EXPECT_EQ(run({{"CNI_COMMAND", "STATUS"}}, conf("1.1.0")).rc, 0);
}

TEST_F(CniSkel, ConfTypeErrorIsCode7) {
  expect_error(run(env("ADD"), R"({"cniVersion":"1.0.0","name":"net1","ipMasq":"yes"})"), kInvalidConfig, "ipMasq");
  expect_error(run(env("ADD"), R"({"cniVersion":"1.0.0"})"), kInvalidConfig, "name");
}

TEST_F(CniSkel, ErrorOutputIsOneJsonLine) {
  const Outcome o = run(env("ADD"), "nope");
  ASSERT_FALSE(o.out.empty());
  EXPECT_EQ(o.out.back(), '\n');
  EXPECT_EQ(o.out.find('\n'), o.out.size() - 1);
}

TEST_F(CniSkel, LogsToConfLogFileWithContext) {
  char tmpl[] = "/tmp/tether-skel-log-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/cni.log";
  funcs_.del = [](const Request&) { throw Error("interface vanished", 7); };
  const Outcome o = run(env("DEL"),
                        R"({"cniVersion":"1.0.0","name":"net1","logLevel":"debug","logFile":")" + path + "\"}");
  log::configure(log::Level::Warning);  // back to stderr for the other tests
  log::set_context("");
  EXPECT_EQ(o.rc, 1);
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  EXPECT_NE(text.find("debug"), std::string::npos) << text;
  EXPECT_NE(text.find("DEL c1/eth0: start\n"), std::string::npos) << text;
  EXPECT_NE(text.find("error"), std::string::npos) << text;
  EXPECT_NE(text.find("DEL c1/eth0: interface vanished\n"), std::string::npos) << text;
  ::unlink(path.c_str());
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace tether::cni
