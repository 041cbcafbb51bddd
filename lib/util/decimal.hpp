#pragma once
// Strict unsigned decimal: 1..max_digits digits, no sign, no leading zero (except "0" itself).
// Shared by version components ("1.10.0") and prefix lengths ("/24"), where "01" or "+1" must fail.
#include <cstddef>
#include <optional>
#include <string_view>

namespace tether::util {

inline std::optional<int> parse_strict_decimal(std::string_view s, std::size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return std::nullopt;
  if (s.size() > 1 && s[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace tether::util
