// Drives the nftables backend in-process, in the netns it is started in (run it under
// `ip netns exec <throwaway netns>`, see run.sh), to measure how ADD/DEL scale with the number of
// attachments already there. Attachment i: ipMasq + tcp 10000+i + udp 30000+i, 10.100.x.y/16.
//   nft_scale fill FROM TO    ADD attachments [FROM, TO); per 100: median/mean/p90 of one ADD
//   nft_scale drain FROM TO   DEL them again, in the same order; the same statistics
//   nft_scale add I | del I   one ADD / DEL, its time on stderr (for strace -T / strace -c)
//   nft_scale noop            nothing (the process's own syscalls, to subtract)
// Only the backend call is timed (not process start-up), each in a fresh Firewall object like a
// plugin process; the first call of a process also pays the lazy set-up (socket, dlopen).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "lib/fw_nftables/nftables_firewall.hpp"

using namespace tether::firewall;
using Clock = std::chrono::steady_clock;

static NatPlan plan(int i) {
  NatPlan p;
  p.key = {"scale-net", "ctr-" + std::to_string(i), "eth0"};
  p.ip_masq = true;
  const std::string ip = "10.100." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2) + "/16";
  p.container_ips = {*tether::net::IpPrefix::parse(ip)};
  p.port_mappings = {{static_cast<std::uint16_t>(10000 + i), 80, tether::net::L4Proto::Tcp, {}},
                     {static_cast<std::uint16_t>(30000 + i), 53, tether::net::L4Proto::Udp, {}}};
  return p;
}

static double micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

// Times op(i) for i in [from, to) and prints one line per window of 100.
static void series(const char* what, int from, int to, const std::function<void(int)>& op) {
  std::vector<double> window;
  for (int i = from; i < to; ++i) {
    const auto t0 = Clock::now();
    op(i);
    window.push_back(micros(Clock::now() - t0));
    if (window.size() == 100 || i + 1 == to) {
      std::vector<double> s = window;
      std::sort(s.begin(), s.end());
      double sum = 0;
      for (double v : s) sum += v;
      std::printf("%s %5d-%5d: median %7.1f us  mean %7.1f us  p90 %7.1f us\n", what,
                  i + 2 - static_cast<int>(s.size()), i + 1, s[s.size() / 2], sum / s.size(), s[s.size() * 9 / 10]);
      std::fflush(stdout);
      window.clear();
    }
  }
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string cmd = argv[1];
  if (cmd == "noop") return 0;
  try {
    if ((cmd == "fill" || cmd == "drain") && argc == 4) {
      const int from = std::atoi(argv[2]), to = std::atoi(argv[3]);
      if (cmd == "fill")
        series("ADD", from, to, [](int i) { make_nftables_firewall()->add(plan(i)); });
      else
        series("DEL", from, to, [](int i) { make_nftables_firewall()->del(plan(i).key); });
      return 0;
    }
    if ((cmd == "add" || cmd == "del") && argc == 3) {
      const int i = std::atoi(argv[2]);
      auto fw = make_nftables_firewall();
      const auto t0 = Clock::now();
      if (cmd == "add")
        fw->add(plan(i));
      else
        fw->del(plan(i).key);
      std::fprintf(stderr, "%s %d: %.0f us\n", cmd.c_str(), i, micros(Clock::now() - t0));
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 2;
}
