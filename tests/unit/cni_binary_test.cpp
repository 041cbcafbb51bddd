// The two built binaries at the CNI boundary: exec'd with a controlled env and stdin, like a runtime.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

using json = nlohmann::json;
using Vars = std::map<std::string, std::string>;

struct BinRun {
  int rc = -1;
  std::string out;
  json j;
};

// Spawns `bin` with exactly `vars` as its environment. stdin gets `in` and is closed, unless
// keep_stdin_open, in which case the write end stays open (an idle pipe) until the child exits.
BinRun run_binary(const std::string& bin, const Vars& vars, const std::string& in, bool keep_stdin_open = false) {
  int in_pipe[2], out_pipe[2];
  EXPECT_EQ(::pipe2(in_pipe, O_CLOEXEC), 0);
  EXPECT_EQ(::pipe2(out_pipe, O_CLOEXEC), 0);
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  ::posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  std::vector<std::string> env;
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = bin;
  char* argv[] = {argv0.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  BinRun r;
  if (rc != 0) {
    ADD_FAILURE() << "spawn " << bin << ": " << std::strerror(rc);
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    return r;
  }
  // Small inputs only: they fit in the pipe buffer, so writing first cannot deadlock.
  EXPECT_EQ(::write(in_pipe[1], in.data(), in.size()), static_cast<ssize_t>(in.size()));
  if (!keep_stdin_open) ::close(in_pipe[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(out_pipe[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<std::size_t>(n));
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (keep_stdin_open) ::close(in_pipe[1]);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.j = json::parse(r.out, nullptr, false);
  return r;
}

class CniBinary : public ::testing::TestWithParam<std::string> {
 protected:
  std::string bin() const { return std::string(TETHER_BIN_DIR) + "/" + GetParam(); }
  static Vars attach_env(const std::string& cmd) {
    return {{"CNI_COMMAND", cmd},
            {"CNI_CONTAINERID", "bin-test"},
            {"CNI_NETNS", "/var/run/netns/none"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/nonexistent"}};
  }
};

TEST_P(CniBinary, VersionListsAllSeven) {
  const BinRun r = run_binary(bin(), {{"CNI_COMMAND", "VERSION"}}, "");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.j["cniVersion"], "1.1.0") << r.out;
  EXPECT_EQ(r.j["supportedVersions"], json::parse(R"(["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"])"));
  // podman asks VERSION with a config version on stdin.
  const BinRun podman = run_binary(bin(), {{"CNI_COMMAND", "VERSION"}, {"CNI_NETNS", "dummy"}},
                                   R"({"cniVersion":"1.0.0"})");
  EXPECT_EQ(podman.j["cniVersion"], "1.0.0") << podman.out;
}

// stdin's write end stays open (and empty) until the binary has exited: a VERSION that waited for
// EOF could never answer, so answering at all is the proof. (Such a regression hangs this test
// until the runner's timeout.) The time is recorded, not bounded.
TEST_P(CniBinary, VersionDoesNotWaitForAnIdleStdin) {
  const auto start = std::chrono::steady_clock::now();
  const BinRun r = run_binary(bin(), {{"CNI_COMMAND", "VERSION"}}, "", /*keep_stdin_open=*/true);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.j["supportedVersions"].size(), 7u) << r.out;
  RecordProperty("version_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
}

TEST_P(CniBinary, BadJsonIsCode6) {
  const BinRun r = run_binary(bin(), attach_env("ADD"), "{not json");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.j["code"], 6) << r.out;
}

TEST_P(CniBinary, MissingEnvIsCode4) {
  Vars vars = attach_env("ADD");
  vars.erase("CNI_CONTAINERID");
  const BinRun r = run_binary(bin(), vars, R"({"cniVersion":"1.0.0","name":"n","type":"tether"})");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.j["code"], 4) << r.out;
  EXPECT_EQ(r.j["cniVersion"], "1.0.0") << r.out;
  EXPECT_NE(r.j["msg"].get<std::string>().find("CNI_CONTAINERID"), std::string::npos) << r.out;
}

TEST_P(CniBinary, UnsupportedVersionIsCode1) {
  const BinRun r = run_binary(bin(), attach_env("ADD"), R"({"cniVersion":"0.5.0","name":"n","type":"tether"})");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.j["code"], 1) << r.out;
}

TEST_P(CniBinary, CheckAt031IsCode1) {
  const BinRun r = run_binary(bin(), attach_env("CHECK"), R"({"cniVersion":"0.3.1","name":"n","type":"tether"})");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.j["code"], 1) << r.out;
  EXPECT_EQ(r.j["cniVersion"], "0.3.1") << r.out;
}

TEST_P(CniBinary, GcAt100IsCode1) {
  const BinRun r = run_binary(bin(), {{"CNI_COMMAND", "GC"}}, R"({"cniVersion":"1.0.0","name":"n","type":"tether"})");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.j["code"], 1) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Binaries, CniBinary, ::testing::Values("tether", "tether-ipam"), [](const auto& info) {
  return info.param == "tether" ? std::string("tether") : std::string("ipam");
});

}  // namespace
