// CNI_ARGS "K=V;K2=V2": either rejected with code 4 naming CNI_ARGS, or parsed into pairs that
// print back ("K=V" joined by ';') and reparse to the same map.
#include <cstddef>
#include <cstdint>

#include "lib/cni/args.hpp"
#include "lib/cni/error.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  cni::CniArgs args;
  try {
    args = cni::parse_cni_args(text);
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kInvalidEnv});
    fuzz::expect(std::string_view(e.what()).find("CNI_ARGS") != std::string_view::npos,
                 "CNI_ARGS error does not name CNI_ARGS", e.what());
    return 0;
  }
  std::string printed;
  for (const auto& [k, v] : args.values) {
    fuzz::expect(!k.empty(), "empty key accepted");
    fuzz::expect(k.find_first_of("=;") == std::string::npos, "key contains '=' or ';'", k);
    fuzz::expect(v.find(';') == std::string::npos, "value contains ';'", v);
    fuzz::expect(args.get(k) == v, "get() disagrees with values");
    printed += (printed.empty() ? "" : ";") + k + "=" + v;
  }
  cni::CniArgs again;
  try {
    again = cni::parse_cni_args(printed);
  } catch (const Error& e) {
    fuzz::violated("printed CNI_ARGS do not reparse", printed + ": " + e.what());
  }
  fuzz::expect(again.values == args.values, "CNI_ARGS round trip changed the pairs", printed);
  return 0;
}
