// NAT rule building (pure, before any lock): NatPlan -> per-family rules -> libiptc entry bytes,
// and the comment parsing DEL runs on every rule of the nat table to find an attachment's rules.
#include <benchmark/benchmark.h>

#include <string>

#include "lib/firewall/naming.hpp"
#include "lib/fw_iptables/nat_rules.hpp"
#include "lib/iptables/rule_spec.hpp"

namespace {

using namespace tether;

firewall::NatPlan plan(bool dual, int mappings) {
  firewall::NatPlan p;
  p.key = {"bench-net", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "eth0"};
  p.ip_masq = true;
  p.container_ips.push_back(*net::IpPrefix::parse("10.88.0.5/16"));
  if (dual) p.container_ips.push_back(*net::IpPrefix::parse("fd00:88::5/64"));
  for (int i = 0; i < mappings; ++i)
    p.port_mappings.push_back(
        {static_cast<std::uint16_t>(8080 + i), 80, i % 2 ? net::L4Proto::Udp : net::L4Proto::Tcp, {}});
  return p;
}

// What ADD computes before taking the xtables lock: the rules, then each entry's bytes.
void BM_NatRulesAndEntries(benchmark::State& state) {
  const firewall::NatPlan p = plan(state.range(0) != 0, static_cast<int>(state.range(1)));
  std::size_t rules = 0;
  for (auto _ : state) {
    auto fams = firewall::nat_rules(p);
    for (const auto& f : fams)
      for (const auto& r : f.rules) benchmark::DoNotOptimize(iptables::build_entry(r.spec));
    rules = 0;
    for (const auto& f : fams) rules += f.rules.size();
  }
  state.SetLabel(std::string(state.range(0) ? "v4+v6" : "v4") + ", ipMasq + " + std::to_string(state.range(1)) +
                 " mappings = " + std::to_string(rules) + " rules");
}
BENCHMARK(BM_NatRulesAndEntries)->ArgsProduct({{0, 1}, {0, 2, 16}});

// DEL/GC parse the comment of every rule in the tether chains: per rule cost at scale.
void BM_ParseAttachmentComment(benchmark::State& state) {
  const std::string c = firewall::attachment_comment(plan(false, 0).key);
  for (auto _ : state) benchmark::DoNotOptimize(firewall::parse_attachment_comment(c));
}
BENCHMARK(BM_ParseAttachmentComment);

void BM_AttachmentHash(benchmark::State& state) {
  const auto key = plan(false, 0).key;
  for (auto _ : state) benchmark::DoNotOptimize(firewall::attachment_hash(key));
}
BENCHMARK(BM_AttachmentHash);

}  // namespace
