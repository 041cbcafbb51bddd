#include "lib/cni/version.hpp"

#include "lib/util/decimal.hpp"

namespace tether::cni {
namespace {

// One component: 1..4 digits, no leading zero unless the component is "0".
std::optional<int> parse_component(std::string_view s) { return util::parse_strict_decimal(s, 4); }

}  // namespace

std::optional<Version> Version::parse(std::string_view text) {
  const auto d1 = text.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  const auto d2 = text.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  auto major = parse_component(text.substr(0, d1));
  auto minor = parse_component(text.substr(d1 + 1, d2 - d1 - 1));
  auto patch = parse_component(text.substr(d2 + 1));
  if (!major || !minor || !patch) return std::nullopt;
  return Version{*major, *minor, *patch};
}

std::string Version::to_string() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

bool Version::supported() const {
  for (const Version& v : {kV010, kV020, kV030, kV031, kV040, kV100, kV110}) {
    if (v == *this) return true;
  }
  return false;
}

const std::vector<std::string>& supported_version_strings() {
  // Built on first use, not at process start.
  static const std::vector<std::string> versions{"0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return versions;
}

}  // namespace tether::cni
