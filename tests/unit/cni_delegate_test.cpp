// Delegation against small shell-script fake plugins written into a mkdtemp directory.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/cni/delegate.hpp"
#include "lib/cni/error.hpp"

namespace tether::cni {
namespace {

namespace fs = std::filesystem;

class CniDelegate : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-delegate-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    other_ = dir_ + "/other";
    fs::create_directory(other_);
    // Records its stdin and CNI_* env next to itself, then answers per verb.
    write_plugin("fake-ok", R"(d=$(dirname "$0")
cat > "$d/stdin.$CNI_COMMAND"
env | grep -e '^CNI_' -e '^TETHER_' | sort > "$d/env.$CNI_COMMAND"
echo "fake-ok stderr line" >&2
if [ "$CNI_COMMAND" = ADD ]; then
  printf '%s' '{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.0.0.7/24","gateway":"10.0.0.1"}],"routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.0.0.1"]}}'
fi
exit 0)");
    write_plugin("fake-err", R"(cat >/dev/null
echo '{"cniVersion":"1.0.0","code":11,"msg":"no free addresses in 10.0.0.0/30","details":"range full"}'
exit 1)");
    write_plugin("fake-err-nocode", R"(echo '{"cniVersion":"1.0.0","code":0,"msg":"zero code"}'; exit 1)");
    write_plugin("fake-garbage", R"(echo 'panic: something broke'; exit 3)");
    write_plugin("fake-signal", R"(kill -9 $$)");
    write_plugin("fake-badresult", R"(echo 'not json'; exit 0)");
    write_plugin("fake-badshape", R"(echo '{"cniVersion":"1.0.0","ips":[{"address":"nope"}]}'; exit 0)");
    // Not executable, and a directory of the same name as a plugin: both must be skipped.
    std::ofstream(dir_ + "/fake-noexec") << "#!/bin/sh\nexit 0\n";
    fs::create_directory(other_ + "/fake-ok");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write_plugin(const std::string& name, const std::string& body) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
    ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  }

  std::string slurp(const std::string& name) const {
    std::ifstream f(dir_ + "/" + name);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }

  Request request(const std::string& stdin_data = R"({"cniVersion":"1.0.0","name":"net1","ipam":{"type":"fake-ok"}})") {
    Request r;
    r.env.command = Command::Add;
    r.env.container_id = "ctr-9";
    r.env.netns = "/var/run/netns/ctr-9";
    r.env.ifname = "eth1";
    r.env.args = "IgnoreUnknown=1;K8S_POD_NAME=x";
    r.env.path = other_ + ":" + dir_;  // `other` first: its fake-ok is a directory
    r.stdin_data = stdin_data;
    r.conf.version = kV100;
    return r;
  }

  static Error catch_error(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e;
    }
    ADD_FAILURE() << "expected a tether::Error";
    return Error("none", -1);
  }

  std::string dir_, other_;
};

TEST_F(CniDelegate, FindPluginSearchesEachDirectory) {
  EXPECT_EQ(find_plugin("fake-ok", "/nonexistent:" + other_ + "::" + dir_ + "/"), dir_ + "/fake-ok");
  EXPECT_EQ(find_plugin("fake-err", dir_), dir_ + "/fake-err");

  Error e = catch_error([&] { find_plugin("missing-plugin", dir_); });
  EXPECT_EQ(e.code(), kInvalidConfig);
  EXPECT_NE(std::string(e.what()).find("ipam.type"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("missing-plugin"), std::string::npos) << e.what();

  EXPECT_EQ(catch_error([&] { find_plugin("fake-noexec", dir_); }).code(), kInvalidConfig);
  EXPECT_EQ(catch_error([&] { find_plugin("../fake-ok", other_); }).code(), kInvalidConfig);
  EXPECT_EQ(catch_error([&] { find_plugin("", dir_); }).code(), kInvalidConfig);
  Error no_path = catch_error([&] { find_plugin("fake-ok", ""); });
  EXPECT_EQ(no_path.code(), kInvalidEnv);
  EXPECT_NE(std::string(no_path.what()).find("CNI_PATH"), std::string::npos);
}

TEST_F(CniDelegate, AddPassesStdinAndEnvAndParsesResult) {
  ::setenv("TETHER_DELEGATE_MARKER", "inherited", 1);
  ::setenv("CNI_COMMAND", "VERSION", 1);  // replaced in the child
  const Request req = request();
  const Result r = delegate_add("fake-ok", req);
  ::unsetenv("TETHER_DELEGATE_MARKER");
  ::unsetenv("CNI_COMMAND");

  ASSERT_EQ(r.ips.size(), 1u);
  EXPECT_EQ(r.ips[0].address.to_string(), "10.0.0.7/24");
  EXPECT_EQ(r.ips[0].gateway->to_string(), "10.0.0.1");
  EXPECT_FALSE(r.ips[0].interface);
  ASSERT_EQ(r.routes.size(), 1u);
  EXPECT_EQ(r.dns.nameservers, std::vector<std::string>{"10.0.0.1"});

  EXPECT_EQ(slurp("stdin.ADD"), req.stdin_data);
  const std::string env = slurp("env.ADD");
  for (const std::string& line :
       std::vector<std::string>{"CNI_COMMAND=ADD\n", "CNI_CONTAINERID=ctr-9\n", "CNI_NETNS=/var/run/netns/ctr-9\n",
                                "CNI_IFNAME=eth1\n", "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=x\n",
                                "CNI_PATH=" + other_ + ":" + dir_ + "\n", "TETHER_DELEGATE_MARKER=inherited\n",
                                "TETHER_DELEGATED=1\n"}) {
    EXPECT_NE(env.find(line), std::string::npos) << "missing " << line << " in\n" << env;
  }
  EXPECT_EQ(env.find("CNI_COMMAND=VERSION"), std::string::npos) << env;
}

TEST_F(CniDelegate, OtherVerbsReplaceOnlyTheCommand) {
  Request req = request();
  req.env.netns.clear();  // DEL without a netns
  delegate_del("fake-ok", req);
  delegate_check("fake-ok", req);
  delegate_gc("fake-ok", req);
  delegate_status("fake-ok", req);
  EXPECT_NE(slurp("env.DEL").find("CNI_COMMAND=DEL\n"), std::string::npos);
  EXPECT_EQ(slurp("env.DEL").find("CNI_NETNS="), std::string::npos);
  EXPECT_NE(slurp("env.CHECK").find("CNI_COMMAND=CHECK\n"), std::string::npos);
  EXPECT_NE(slurp("env.GC").find("CNI_COMMAND=GC\n"), std::string::npos);
  EXPECT_NE(slurp("env.STATUS").find("CNI_COMMAND=STATUS\n"), std::string::npos);
  EXPECT_EQ(slurp("stdin.GC"), req.stdin_data);
}

TEST_F(CniDelegate, LargeStdinArrivesIntact) {
  const std::string big = R"({"name":"n","pad":")" + std::string(1 << 20, 'x') + "\"}";
  delegate_del("fake-ok", request(big));
  EXPECT_EQ(slurp("stdin.DEL"), big);
}

TEST_F(CniDelegate, ChildErrorJsonIsPropagated) {
  for (auto fn : {+[](const Request& r) { delegate_del("fake-err", r); },
                  +[](const Request& r) { (void)delegate_add("fake-err", r); }}) {
    const Error e = catch_error([&] { fn(request()); });
    EXPECT_EQ(e.code(), 11);
    EXPECT_STREQ(e.what(), "no free addresses in 10.0.0.0/30");
    EXPECT_EQ(e.details(), "range full");
  }
  EXPECT_EQ(catch_error([&] { delegate_del("fake-err-nocode", request()); }).code(), kInternal);
}

TEST_F(CniDelegate, UnparseableFailureIs999WithOutput) {
  const Error e = catch_error([&] { delegate_check("fake-garbage", request()); });
  EXPECT_EQ(e.code(), kInternal);
  EXPECT_NE(std::string(e.what()).find("panic: something broke"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("exit status 3"), std::string::npos) << e.what();

  const Error sig = catch_error([&] { delegate_del("fake-signal", request()); });
  EXPECT_EQ(sig.code(), kInternal);
  EXPECT_NE(std::string(sig.what()).find("signal"), std::string::npos) << sig.what();
}

TEST_F(CniDelegate, BadAddOutput) {
  EXPECT_EQ(catch_error([&] { (void)delegate_add("fake-badresult", request()); }).code(), kInternal);
  const Error shape = catch_error([&] { (void)delegate_add("fake-badshape", request()); });
  EXPECT_EQ(shape.code(), kInvalidConfig);
  EXPECT_NE(std::string(shape.what()).find("fake-badshape"), std::string::npos) << shape.what();
}

// A plugin run as a delegate (the marker set) never delegates again: any config whose IPAM leads
// back to tether stops after one level instead of forking without bound.
TEST_F(CniDelegate, ADelegateDoesNotDelegateAgain) {
  Request req = request();
  req.env.delegated = true;
  for (auto fn : {+[](const Request& r) { (void)delegate_add("fake-ok", r); },
                  +[](const Request& r) { delegate_del("fake-ok", r); }}) {
    const Error e = catch_error([&] { fn(req); });
    EXPECT_EQ(e.code(), kInvalidConfig);
    EXPECT_NE(std::string(e.what()).find("ipam.type"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("TETHER_DELEGATED"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/env.ADD")) << "the delegate ran";
  EXPECT_FALSE(fs::exists(dir_ + "/env.DEL")) << "the delegate ran";
}

TEST_F(CniDelegate, NotFoundIsCode7) {
  const Error e = catch_error([&] { delegate_del("no-such-ipam", request()); });
  EXPECT_EQ(e.code(), kInvalidConfig);
  EXPECT_NE(std::string(e.what()).find("no-such-ipam"), std::string::npos);
}

}  // namespace
}  // namespace tether::cni
