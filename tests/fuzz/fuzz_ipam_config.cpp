// IPAM config → Plan (ipam/config.hpp). Input: the CNI_ARGS value, '\n', then the network config.
// Either rejected (1/6/7 from the config, 4 from CNI_ARGS), or the Plan is one the allocator can
// trust: every range inside its subnet with start <= end, one family per set, no overlaps between
// sets, each requested address inside its own set and not its gateway, a store name that cannot
// leave dataDir.
#include <cstddef>
#include <cstdint>

#include "ipam/config.hpp"
#include "lib/cni/conf.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tether;

namespace {

void check_plan(const ipam::Plan& p) {
  fuzz::expect(cni::valid_name(p.store.network), "store name can escape dataDir", p.store.network);
  fuzz::expect(!p.store.data_dir.empty(), "empty dataDir");
  fuzz::expect(!p.range_sets.empty(), "plan without ranges");
  fuzz::expect(p.requested.size() == p.range_sets.size(), "requested list does not match range sets");
  for (std::size_t i = 0; i < p.range_sets.size(); ++i) {
    const auto& set = p.range_sets[i];
    fuzz::expect(!set.ranges.empty(), "empty range set");
    for (const auto& r : set.ranges) {
      fuzz::expect(r.subnet.family() == set.family(), "mixed families in a set", set.to_string());
      fuzz::expect(r.subnet.host_bits_zero(), "subnet with host bits", r.to_string());
      fuzz::expect(r.subnet.contains(r.start) && r.subnet.contains(r.end) && r.start <= r.end,
                   "range outside its subnet or reversed", r.to_string());
      fuzz::expect(r.subnet.contains(r.gateway), "gateway outside subnet", r.to_string());
      for (std::size_t j = 0; j < i; ++j) {
        for (const auto& o : p.range_sets[j].ranges)
          fuzz::expect(!r.overlaps(o), "range sets overlap", r.to_string() + " / " + o.to_string());
      }
    }
    if (const auto& want = p.requested[i]) {
      const ipam::Range* r = set.range_for(*want);
      fuzz::expect(r != nullptr, "requested IP outside its set", want->to_string());
      fuzz::expect(r->gateway != *want, "requested IP is the gateway", want->to_string());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  const auto nl = text.find('\n');
  if (nl == std::string_view::npos) return 0;
  const std::string cni_args(text.substr(0, nl));
  cni::NetConf conf;
  try {
    conf = cni::parse_netconf(text.substr(nl + 1));
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kIncompatibleVersion, cni::kDecodeFailure, cni::kInvalidConfig});
    return 0;
  }
  try {
    check_plan(ipam::build_plan(conf, cni_args));
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kInvalidConfig, cni::kInvalidEnv});
  }
  return 0;
}
