// Network config parsing (stdin of every verb but VERSION): any byte string either parses into a
// NetConf that satisfies check_netconf, or is rejected with code 1 (version), 6 (malformed) or
// 7 (bad key). Anything else (another exception type, a crash, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>

#include "lib/cni/conf.hpp"
#include "tests/fuzz/netconf_invariants.hpp"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  try {
    fuzz::check_netconf(cni::parse_netconf(text));
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kIncompatibleVersion, cni::kDecodeFailure, cni::kInvalidConfig});
  }
  return 0;
}
