// Drives the nftables backend in-process, in the netns it is started in (run it under
// `ip netns exec <throwaway netns>`), to measure how ADD/DEL scale with the number of
// attachments already there. Attachment i: ipMasq + tcp 10000+i + udp 30000+i, 10.100.x.y/16.
//   nft_scale fill FROM TO   add attachments [FROM, TO), print the mean ADD time per 100
//   nft_scale add I | del I  one ADD / DEL (for strace -c)
//   nft_scale noop           nothing (the process's own syscalls, to subtract)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "lib/fw_nftables/nftables_firewall.hpp"

using namespace tether::firewall;

static NatPlan plan(int i) {
  NatPlan p;
  p.key = {"scale-net", "ctr-" + std::to_string(i), "eth0"};
  p.ip_masq = true;
  const std::string ip = "10.100." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 2) + "/16";
  p.container_ips = {*tether::net::IpPrefix::parse(ip)};
  p.port_mappings = {{static_cast<std::uint16_t>(10000 + i), 80, tether::net::L4Proto::Tcp, {}}, {static_cast<std::uint16_t>(30000 + i), 53, tether::net::L4Proto::Udp, {}}};
  return p;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string cmd = argv[1];
  if (cmd == "noop") return 0;
  auto fw = make_nftables_firewall();
  using clock = std::chrono::steady_clock;
  try {
    if (cmd == "fill" && argc == 4) {
      const int from = std::atoi(argv[2]), to = std::atoi(argv[3]);
      auto t0 = clock::now();
      for (int i = from; i < to; ++i) {
        fw->add(plan(i));
        if ((i + 1) % 100 == 0) {
          const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0).count();
          std::printf("attachments %d: mean ADD %.1f us over the last 100\n", i + 1, us / 100.0);
          t0 = clock::now();
        }
      }
      return 0;
    }
    if ((cmd == "add" || cmd == "del") && argc == 3) {
      const int i = std::atoi(argv[2]);
      const auto t0 = clock::now();
      if (cmd == "add") fw->add(plan(i)); else fw->del(plan(i).key);
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0).count();
      std::fprintf(stderr, "%s %d: %lld us\n", cmd.c_str(), i, static_cast<long long>(us));
      return 0;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 2;
}
