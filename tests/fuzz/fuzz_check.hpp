#pragma once
// Helpers shared by the fuzz targets: an invariant check that aborts (so libFuzzer records the
// input as a crash) and the rule that every rejection is a tether::Error with an expected code.
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "lib/util/error.hpp"

namespace tether::fuzz {

[[noreturn]] inline void violated(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz invariant violated: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
  std::abort();
}

inline void expect(bool ok, const char* what, const std::string& detail = {}) {
  if (!ok) violated(what, detail);
}

// A rejected input must carry one of `codes` and a non-empty message.
inline void expect_code(const Error& e, std::initializer_list<int> codes) {
  for (int c : codes) {
    if (e.code() == c) {
      expect(*e.what() != '\0', "error without a message");
      return;
    }
  }
  violated("unexpected error code", std::to_string(e.code()) + ": " + e.what());
}

inline std::string_view as_view(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace tether::fuzz
