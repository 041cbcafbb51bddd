#include "lib/cni/json_field.hpp"

#include <cmath>

#include "lib/cni/error.hpp"

namespace tether::cni {
namespace {

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

// Short rendering of the offending value for messages; long values are cut.
std::string show(const json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

[[noreturn]] void wrong_type(const std::string& key, const char* expected, const json& v) {
  invalid_config(key, std::string("expected ") + expected + ", got " + type_name(v) + " " + show(v));
}

const json* member(const json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  // null reads as absent, as in Go's decoding into optional fields.
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::string key_path(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

std::optional<std::string> get_string(const json& obj, const std::string& path, const std::string& key) {
  const json* v = member(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) wrong_type(key_path(path, key), "a string", *v);
  return v->get<std::string>();
}

std::optional<bool> get_bool(const json& obj, const std::string& path, const std::string& key) {
  const json* v = member(obj, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key_path(path, key), "a boolean", *v);
  return v->get<bool>();
}

std::optional<std::int64_t> get_int(const json& obj, const std::string& path, const std::string& key, std::int64_t min,
                                    std::int64_t max) {
  const json* v = member(obj, key);
  if (v == nullptr) return std::nullopt;
  const std::string name = key_path(path, key);
  std::int64_t out = 0;
  if (v->is_number_integer() && !v->is_number_unsigned()) {
    out = v->get<std::int64_t>();
  } else if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(max)) {
      invalid_config(name,
                     "value " + show(*v) + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    out = static_cast<std::int64_t>(u);
  } else if (v->is_number_float()) {
    // JSON has one number type: accept 1500.0 but not 1500.5.
    const double d = v->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < -9.0e18 || d > 9.0e18)
      invalid_config(name, "value " + show(*v) + ": expected a whole number");
    out = static_cast<std::int64_t>(d);
  } else {
    wrong_type(name, "an integer", *v);
  }
  if (out < min || out > max) {
    invalid_config(name,
                   "value " + show(*v) + ": must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return out;
}

std::optional<std::vector<std::string>> get_string_list(const json& obj, const std::string& path,
                                                        const std::string& key) {
  const json* v = member(obj, key);
  if (v == nullptr) return std::nullopt;
  const std::string name = key_path(path, key);
  if (!v->is_array()) wrong_type(name, "a list of strings", *v);
  std::vector<std::string> out;
  out.reserve(v->size());
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) wrong_type(name + "[" + std::to_string(i) + "]", "a string", e);
    out.push_back(e.get<std::string>());
  }
  return out;
}

const json* get_object(const json& obj, const std::string& path, const std::string& key) {
  const json* v = member(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) wrong_type(key_path(path, key), "an object", *v);
  return v;
}

const json* get_array(const json& obj, const std::string& path, const std::string& key) {
  const json* v = member(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) wrong_type(key_path(path, key), "a list", *v);
  return v;
}

net::IpAddress parse_ip_field(const std::string& text, const std::string& key) {
  auto a = net::IpAddress::parse(text);
  if (!a) invalid_config(key, "value '" + text + "': not a valid IP address");
  return *a;
}

net::IpPrefix parse_prefix_field(const std::string& text, const std::string& key) {
  auto p = net::IpPrefix::parse(text);
  if (!p) invalid_config(key, "value '" + text + "': not a valid CIDR (address/prefix)");
  return *p;
}

}  // namespace tether::cni
