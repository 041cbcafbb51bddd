// CNI protocol hot path: parse the netconf a plugin gets on stdin, print the result it answers,
// once per spec version (the work every exec of tether does besides the kernel's).
#include <benchmark/benchmark.h>

#include <string>

#include "lib/cni/conf.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/cni/version.hpp"

namespace {

using namespace tether;

// A full bridge config as a runtime sends it: IPAM, ipMasq, 2 port mappings, and for versions that
// have one, a prevResult (CHECK/DEL shape).
std::string netconf(const std::string& version, bool prev) {
  std::string c = R"({"cniVersion":")" + version + R"(","name":"bench-net","type":"tether",
    "bridge":"tether0","isGateway":true,"ipMasq":true,"hairpinMode":true,
    "capabilities":{"portMappings":true},
    "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"},
                                      {"hostPort":5353,"containerPort":53,"protocol":"udp"}]},
    "ipam":{"type":"tether-ipam","ranges":[[{"subnet":"10.88.0.0/16","gateway":"10.88.0.1"}]],
            "routes":[{"dst":"0.0.0.0/0"}],"dataDir":"/var/lib/cni/networks"})";
  if (prev)
    c += R"(,"prevResult":{"cniVersion":")" + version + R"(","interfaces":[{"name":"tether0","mac":"0a:58:0a:58:00:01"},
      {"name":"veth1234abcd","mac":"0a:58:0a:58:00:02"},{"name":"eth0","mac":"0a:58:0a:58:00:03","sandbox":"/var/run/netns/x"}],
      "ips":[{"address":"10.88.0.5/16","gateway":"10.88.0.1","interface":2}],"routes":[{"dst":"0.0.0.0/0"}],
      "dns":{}})";
  return c + "}";
}

cni::Result sample_result() {
  cni::Result r;
  r.interfaces = {{"tether0", "0a:58:0a:58:00:01", 1500, "", "", ""},
                  {"veth1234abcd", "0a:58:0a:58:00:02", 1500, "", "", ""},
                  {"eth0", "0a:58:0a:58:00:03", 1500, "/var/run/netns/x", "", ""}};
  cni::IpConfig ip;
  ip.address = *net::IpPrefix::parse("10.88.0.5/16");
  ip.gateway = net::IpAddress::parse("10.88.0.1");
  ip.interface = 2;
  r.ips = {ip};
  cni::Route rt;
  rt.dst = *net::IpPrefix::parse("0.0.0.0/0");
  r.routes = {rt};
  return r;
}

const cni::Version kVersions[] = {cni::kV031, cni::kV040, cni::kV100, cni::kV110};

void BM_ParseNetconf(benchmark::State& state) {
  const cni::Version v = kVersions[state.range(0)];
  const std::string text = netconf(v.to_string(), state.range(1) != 0);
  for (auto _ : state) benchmark::DoNotOptimize(cni::parse_netconf(text));
  state.SetLabel(v.to_string() + (state.range(1) ? " +prevResult" : ""));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseNetconf)->ArgsProduct({{0, 1, 2, 3}, {0, 1}});

void BM_PrintResult(benchmark::State& state) {
  const cni::Version v = kVersions[state.range(0)];
  const cni::Result r = sample_result();
  for (auto _ : state) benchmark::DoNotOptimize(cni::result_to_string(r, v));
  state.SetLabel(v.to_string());
}
BENCHMARK(BM_PrintResult)->DenseRange(0, 3);

}  // namespace
