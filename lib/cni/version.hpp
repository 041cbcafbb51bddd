#pragma once
// CNI spec versions. Supported: 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0.
// A config without cniVersion means 0.1.0.
#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::cni {

struct Version {
  int major = 0, minor = 1, patch = 0;
  static std::optional<Version> parse(std::string_view text);  // strict "X.Y.Z"
  std::string to_string() const;
  bool supported() const;  // one of the 7
  auto operator<=>(const Version&) const = default;
};

inline constexpr Version kV010{0, 1, 0}, kV020{0, 2, 0}, kV030{0, 3, 0}, kV031{0, 3, 1}, kV040{0, 4, 0}, kV100{1, 0, 0},
    kV110{1, 1, 0};
inline constexpr Version kCurrentVersion = kV110;
const std::vector<std::string>& supported_version_strings();  // in ascending order

}  // namespace tether::cni
