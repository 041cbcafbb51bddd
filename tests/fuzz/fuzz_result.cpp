// prevResult / IPAM result parsing from any version, and printing into every version.
// Input: byte 0 picks the caller's version (used when the result has no cniVersion), the rest
// is the result JSON.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/result_invariants.hpp"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto& versions = cni::supported_version_strings();
  const cni::Version caller = *cni::Version::parse(versions[data[0] % versions.size()]);
  const auto text = fuzz::as_view(data + 1, size - 1);
  const cni::json j = cni::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) return 0;
  cni::Result r;
  try {
    r = cni::result_from_json(j, caller);
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kIncompatibleVersion, cni::kInvalidConfig});
    return 0;
  }
  fuzz::check_result_round_trips(r);
  return 0;
}
