#pragma once
// JSON → Range / RangeSet with host-local's defaults; code 7 naming `path` on any problem.
#include <string>

#include "ipam/config.hpp"

namespace tether::ipam {

Range parse_range(const cni::json& obj, const std::string& path);
RangeSet parse_range_set(const cni::json& arr, const std::string& path);

}  // namespace tether::ipam
