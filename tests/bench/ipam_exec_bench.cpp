// tether-ipam against the reference host-local (/usr/lib/cni/host-local), each call a real process
// exec as a runtime makes it: ADD and DEL latency on an empty /16 and on one holding 5,000 leases
// (also with all of them right after the round-robin cursor, the worst case for probing), and the
// exec floor of each binary (VERSION). Side by side in one run, alternating tool by tool so both
// see the same machine load; each tool has its own network in one dataDir. Reported as counters,
// p50/p90 in ms. No root needed: IPAM only touches files.
//   <build>/tests/bench/tether_micro_bench --benchmark_filter=IpamExec
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kHostLocal = "/usr/lib/cni/host-local";

// Runs `bin` with exactly `env`, `in` on stdin, output discarded; returns the exit code (-1: could
// not run it) and adds the wall time from spawn to reaped exit to `ms`.
int exec_ms(const std::string& bin, const std::vector<std::string>& env, const std::string& in, double& ms) {
  int pipe_fd[2];
  if (::pipe2(pipe_fd, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_adddup2(&fa, pipe_fd[0], 0);
  ::posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string argv0 = bin;
  char* argv[] = {argv0.data(), nullptr};
  const auto t0 = Clock::now();
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data());
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(pipe_fd[0]);
  if (rc == 0) (void)!::write(pipe_fd[1], in.data(), in.size());  // small: fits the pipe buffer
  ::close(pipe_fd[1]);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> cni_env(const std::string& cmd, const std::string& id) {
  return {"CNI_COMMAND=" + cmd,          "CNI_CONTAINERID=" + id, "CNI_IFNAME=eth0",
          "CNI_NETNS=/proc/self/ns/net", "CNI_PATH=/usr/lib/cni", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
}

double pct(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// One tool's network "net-<tag>" in the shared dataDir, pre-filled the way host-local writes leases
// (10.1.x.y in a /16, from 10.1.3.232 on).
struct Tool {
  std::string bin, tag, dir, conf;
  std::vector<double> add, del;

  Tool(std::string b, std::string t, const fs::path& data_dir, int leases) : bin(std::move(b)), tag(std::move(t)) {
    const fs::path net = data_dir / ("net-" + tag);
    dir = net.string();
    fs::create_directories(net);
    for (int i = 0; i < leases; ++i) {
      const int v = 1000 + i;
      std::ofstream(net / ("10.1." + std::to_string(v / 256) + "." + std::to_string(v % 256)))
          << "pre" << i << "\r\neth0";
    }
    conf = R"({"cniVersion":"1.0.0","name":"net-)" + tag +
           R"(","type":"bridge","ipam":{"type":"tether-ipam","dataDir":")" + data_dir.string() +
           R"(","ranges":[[{"subnet":"10.1.0.0/16"}]]}})";
  }
  // Exit code of one call; its time goes to `out` (nullptr: untimed warm-up).
  int call(const std::string& cmd, const std::string& id, std::vector<double>* out) {
    double ms = 0;
    const int rc = exec_ms(bin, cni_env(cmd, tag + id), conf, ms);
    if (out != nullptr) out->push_back(ms);
    return rc;
  }
};

// Args: existing leases, dense (cursor right in front of them before every ADD).
void BM_IpamExecVsHostLocal(benchmark::State& state) {
  if (::access(kHostLocal, X_OK) != 0) {
    state.SkipWithError("host-local not installed (apt-get install containernetworking-plugins)");
    return;
  }
  const int leases = static_cast<int>(state.range(0));
  const bool dense = state.range(1) != 0;
  const fs::path data_dir = fs::temp_directory_path() / ("tether-ipam-exec-bench-" + std::to_string(::getpid()));
  fs::remove_all(data_dir);
  std::vector<Tool> tools;
  tools.emplace_back(kHostLocal, "hl", data_dir, leases);
  tools.emplace_back(TETHER_IPAM_BIN, "t", data_dir, leases);
  std::string failed;
  for (auto& t : tools) {  // the first call may rebuild our index: not steady state
    if (t.call("ADD", "warm", nullptr) != 0 || t.call("DEL", "warm", nullptr) != 0) failed = t.bin + " warm-up failed";
  }
  long i = 0;
  for (auto _ : state) {
    if (!failed.empty()) break;
    const std::string id = std::to_string(i++);
    double iteration_ms = 0;
    for (const std::string cmd : {"ADD", "DEL"}) {
      for (auto& t : tools) {
        auto& v = cmd == "ADD" ? t.add : t.del;
        if (dense && cmd == "ADD") std::ofstream(t.dir + "/last_reserved_ip.0") << "10.1.3.231";
        if (t.call(cmd, id, &v) != 0) failed = t.bin + " " + cmd + " failed";
        iteration_ms += v.back();
      }
    }
    state.SetIterationTime(iteration_ms / 1000.0);
  }
  fs::remove_all(data_dir);
  if (!failed.empty()) {
    state.SkipWithError(failed.c_str());
    return;
  }
  for (auto& t : tools) {
    state.counters[t.tag + "_add_p50_ms"] = pct(t.add, 0.5);
    state.counters[t.tag + "_add_p90_ms"] = pct(t.add, 0.9);
    state.counters[t.tag + "_del_p50_ms"] = pct(t.del, 0.5);
    state.counters[t.tag + "_del_p90_ms"] = pct(t.del, 0.9);
  }
  state.SetLabel(std::to_string(leases) + " leases" + (dense ? ", all right after the cursor" : "") +
                 "; hl = host-local, t = tether-ipam");
}
// The rounds of the former integration-binary benchmark: 200 / 100 / 50.
BENCHMARK(BM_IpamExecVsHostLocal)->Args({0, 0})->Iterations(200)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IpamExecVsHostLocal)->Args({5000, 0})->Iterations(100)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IpamExecVsHostLocal)->Args({5000, 1})->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);

// The floor: exec + exit of each binary doing nothing (VERSION), measured the same way.
void BM_IpamExecFloor(benchmark::State& state) {
  std::vector<double> hl, t;
  const std::vector<std::string> env = {"CNI_COMMAND=VERSION"};
  for (auto _ : state) {
    double ms = 0;
    if (::access(kHostLocal, X_OK) == 0) exec_ms(kHostLocal, env, R"({"cniVersion":"1.0.0"})", ms);
    hl.push_back(ms);
    ms = 0;
    exec_ms(TETHER_IPAM_BIN, env, R"({"cniVersion":"1.0.0"})", ms);
    t.push_back(ms);
    state.SetIterationTime((hl.back() + t.back()) / 1000.0);
  }
  state.counters["hl_version_p50_ms"] = pct(hl, 0.5);
  state.counters["t_version_p50_ms"] = pct(t, 0.5);
}
BENCHMARK(BM_IpamExecFloor)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);

}  // namespace
