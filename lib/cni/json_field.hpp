#pragma once
// Typed reads of config keys. A wrong type or out-of-range value throws code 7 naming the key path
// ("ipam.ranges[0][1].subnet") and the offending value; a missing key returns the default/nullopt.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/cni/types.hpp"

namespace tether::cni {

// `path` is the dotted path of `obj` itself ("" for the root); `key` the member to read.
std::string key_path(const std::string& path, const std::string& key);

std::optional<std::string> get_string(const json& obj, const std::string& path, const std::string& key);
std::optional<bool> get_bool(const json& obj, const std::string& path, const std::string& key);
// Integers must be whole numbers within [min, max].
std::optional<std::int64_t> get_int(const json& obj, const std::string& path, const std::string& key, std::int64_t min,
                                    std::int64_t max);
std::optional<std::vector<std::string>> get_string_list(const json& obj, const std::string& path,
                                                        const std::string& key);
// Returns a pointer into obj (nullptr when absent); type-checks object/array.
const json* get_object(const json& obj, const std::string& path, const std::string& key);
const json* get_array(const json& obj, const std::string& path, const std::string& key);

// Parses an address/prefix value, naming the key on failure.
net::IpAddress parse_ip_field(const std::string& text, const std::string& key);
net::IpPrefix parse_prefix_field(const std::string& text, const std::string& key);

}  // namespace tether::cni
