// Benchmark (not a timed test; DISABLED_ so CI never fails on a busy machine):
//   tether_integration_tests --gtest_also_run_disabled_tests --gtest_filter='*IpamBench*'
// ADD and DEL latency of tether-ipam vs /usr/lib/cni/host-local, side by side in one run, on an
// empty network and on one holding 5,000 leases. Each call is a real process exec.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "ipam_test_util.hpp"

namespace tether::testing {
namespace {

struct Stats {
  double p50 = 0, p90 = 0;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 9 / 10]};
}

class IpamBench : public IpamBinaryTest {
 protected:
  // Each tool gets its own network (same dataDir), so neither sees the other's changes, and the
  // calls alternate tool by tool so both see the same machine load.
  std::string conf_for(const std::string& net) const {
    std::string c = conf(R"([[{"subnet":"10.1.0.0/16"}]])", "1.0.0");
    c.replace(c.find("\"net1\""), 6, "\"" + net + "\"");
    return c;
  }
  // Pre-fills `n` leases the way host-local writes them (10.1.x.y in a /16).
  void prefill(const std::string& net, int n) {
    const std::string dir = data_dir_ + "/" + net;
    std::filesystem::create_directories(dir);
    for (int i = 0; i < n; ++i) {
      const int v = 1000 + i;
      std::ofstream(dir + "/10.1." + std::to_string(v / 256) + "." + std::to_string(v % 256)) << "pre" << i
                                                                                            << "\r\neth0";
    }
  }

  struct Tool {
    std::string bin, net, tag;
    std::vector<double> add, del;
  };

  void once(Tool& t, const std::string& cmd, int i, std::vector<double>* out, const std::string& cursor) {
    const std::string c = conf_for(t.net);
    if (!cursor.empty() && cmd == "ADD") std::ofstream(data_dir_ + "/" + t.net + "/last_reserved_ip.0") << cursor;
    const std::string id = t.tag + std::to_string(i);
    const auto t0 = std::chrono::steady_clock::now();
    const PluginRun r = run_plugin(t.bin, env(cmd, id), c);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.exit_code, 0) << t.bin << " " << cmd << ": " << r.out << r.err;
    if (out != nullptr) out->push_back(ms);
  }

  // `cursor`: reset last_reserved_ip.0 to it before every ADD (dense-pool case).
  void report(int leases_before, int rounds, const std::string& cursor = "") {
    Tool tools[2] = {{kHostLocal, "nethl", "hl", {}, {}}, {TETHER_IPAM_BIN, "nett", "t", {}, {}}};
    for (auto& t : tools) {
      if (leases_before > 0) prefill(t.net, leases_before);
      once(t, "ADD", -1, nullptr, "");  // first call may rebuild our index: not steady state
      once(t, "DEL", -1, nullptr, "");
    }
    for (int i = 0; i < rounds; ++i) {
      for (auto& t : tools) once(t, "ADD", i, &t.add, cursor);
    }
    for (int i = 0; i < rounds; ++i) {
      for (auto& t : tools) once(t, "DEL", i, &t.del, cursor);
    }
    std::printf("IPAM bench, %d existing leases%s, %d rounds (ms):\n", leases_before,
                cursor.empty() ? "" : ", all right after the round-robin cursor", rounds);
    for (auto& t : tools) {
      const Stats a = stats(t.add), d = stats(t.del);
      std::printf("  %-11s  ADD p50 %6.2f p90 %6.2f | DEL p50 %6.2f p90 %6.2f\n",
                  t.tag == "hl" ? "host-local" : "tether-ipam", a.p50, a.p90, d.p50, d.p90);
    }
    std::printf("  ratio tether/host-local p50: ADD %.2f DEL %.2f\n", stats(tools[1].add).p50 / stats(tools[0].add).p50,
                stats(tools[1].del).p50 / stats(tools[0].del).p50);
    // The floor: exec + exit of each binary doing nothing (VERSION), measured the same way.
    std::vector<double> floor_hl, floor_t;
    for (int i = 0; i < 50; ++i) {
      for (auto* v : {&floor_hl, &floor_t}) {
        const auto t0 = std::chrono::steady_clock::now();
        run_plugin(v == &floor_hl ? kHostLocal : TETHER_IPAM_BIN, {{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":"1.0.0"})");
        v->push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    std::printf("  exec floor (VERSION) p50: host-local %.2f tether-ipam %.2f\n", stats(floor_hl).p50,
                stats(floor_t).p50);
  }
};

TEST_F(IpamBench, DISABLED_EmptyNetwork) { report(0, 200); }
TEST_F(IpamBench, DISABLED_FiveThousandLeases) { report(5000, 100); }
// Worst case for probing: the 5,000 leases (10.1.3.232 on) sit right after the cursor.
TEST_F(IpamBench, DISABLED_FiveThousandLeasesDenseAfterCursor) { report(5000, 50, "10.1.3.231"); }

}  // namespace
}  // namespace tether::testing
