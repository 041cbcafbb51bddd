// IPAM allocation through tether-ipam's public verbs (ipam/ipam.hpp), on the real host-local file
// store in a temp dataDir, with 0 / 5,000 / 50,000 leases already held in the /16. What is timed
// is everything an ADD/DEL does after process start: config validation, lock, index, lease file.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "ipam/ipam.hpp"
#include "lib/cni/conf.hpp"

namespace {

using namespace tether;
namespace fs = std::filesystem;

class Pool {
 public:
  explicit Pool(int leases) : dir_(fs::temp_directory_path() / ("tether-micro-bench-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    const fs::path net = dir_ / "bench";
    fs::create_directories(net);
    // host-local's layout: one file per held address, "<id>\r\n<ifname>"; 10.1.0.2 upwards.
    for (int i = 0; i < leases; ++i) {
      const int v = 2 + i;
      std::ofstream(net / ("10.1." + std::to_string(v / 256) + "." + std::to_string(v % 256)))
          << "pre" << i << "\r\neth0";
    }
    conf_ = cni::parse_netconf(R"({"cniVersion":"1.0.0","name":"bench","type":"tether-ipam",
      "ipam":{"type":"tether-ipam","ranges":[[{"subnet":"10.1.0.0/16"}]],"routes":[{"dst":"0.0.0.0/0"}],
      "dataDir":")" + dir_.string() +
                               R"("}})");
    cursor_ = net / "last_reserved_ip.0";
  }
  ~Pool() { fs::remove_all(dir_); }

  cni::Request request(cni::Command c, const std::string& id) const {
    cni::Request r;
    r.env.command = c;
    r.env.container_id = id;
    r.env.ifname = "eth0";
    r.env.netns = "/var/run/netns/bench";
    r.conf = conf_;
    return r;
  }
  // Dense case: the round-robin cursor back at the start of the range, in front of every held lease.
  // Rewritten in place (not removed) so the directory does not change and the lease index stays valid:
  // this times the allocator's walk over taken addresses, not an index rebuild.
  void reset_cursor() const { std::ofstream(cursor_) << "10.1.0.1"; }

 private:
  fs::path dir_;
  fs::path cursor_;
  cni::NetConf conf_;
};

// ADD (timed) then DEL (untimed), so the pool size stays at `leases`.
void BM_IpamAdd(benchmark::State& state) {
  Pool pool(static_cast<int>(state.range(0)));
  const bool dense = state.range(1) != 0;
  ipam::cmd_del(pool.request(cni::Command::Del, "warm"));  // builds the lease index once
  long i = 0;
  for (auto _ : state) {
    const std::string id = "c" + std::to_string(i++);
    if (dense) {
      state.PauseTiming();
      pool.reset_cursor();
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(ipam::cmd_add(pool.request(cni::Command::Add, id)));
    state.PauseTiming();
    ipam::cmd_del(pool.request(cni::Command::Del, id));
    state.ResumeTiming();
  }
  state.SetLabel(std::to_string(state.range(0)) + " leases" + (dense ? ", cursor at range start" : ""));
}
BENCHMARK(BM_IpamAdd)->ArgsProduct({{0, 5000, 50000}, {0, 1}})->Unit(benchmark::kMicrosecond);

// DEL (timed) of a lease ADDed untimed.
void BM_IpamDel(benchmark::State& state) {
  Pool pool(static_cast<int>(state.range(0)));
  long i = 0;
  for (auto _ : state) {
    const std::string id = "c" + std::to_string(i++);
    state.PauseTiming();
    ipam::cmd_add(pool.request(cni::Command::Add, id));
    state.ResumeTiming();
    ipam::cmd_del(pool.request(cni::Command::Del, id));
  }
  state.SetLabel(std::to_string(state.range(0)) + " leases");
}
BENCHMARK(BM_IpamDel)->Arg(0)->Arg(5000)->Arg(50000)->Unit(benchmark::kMicrosecond);

}  // namespace
