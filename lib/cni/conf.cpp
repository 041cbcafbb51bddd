#include "lib/cni/conf.hpp"

#include <algorithm>

#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/log/log.hpp"
#include "lib/net/mac.hpp"

namespace tether::cni {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string idx(const std::string& key, std::size_t i) { return key + "[" + std::to_string(i) + "]"; }

// Deepest '['/'{' nesting outside strings. Invalid JSON may miscount; the parser rejects it anyway.
std::size_t nesting_depth(std::string_view text) {
  std::size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

json parse_object(std::string_view text) {
  if (text.size() > kMaxStdinBytes) {
    fail(kDecodeFailure, "network config is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                             std::to_string(kMaxStdinBytes));
  }
  // nlohmann parses and destroys iteratively, but copying, comparing and printing a value recurse
  // once per level: a few hundred thousand '[' (well under the size limit) overflow the stack.
  if (const std::size_t depth = nesting_depth(text); depth > kMaxJsonDepth) {
    fail(kDecodeFailure, "network config nests " + std::to_string(depth) + " levels deep, more than the limit of " +
                             std::to_string(kMaxJsonDepth));
  }
  json j;
  try {
    j = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for numbers beyond double ("1e400"): both malformed input.
    fail(kDecodeFailure, std::string("failed to parse network config: ") + e.what());
  }
  if (!j.is_object()) fail(kDecodeFailure, std::string("network config must be a JSON object, got ") + j.type_name());
  return j;
}

Version version_of(const json& j, std::string& text) {
  text = get_string(j, "", "cniVersion").value_or("");
  if (text.empty()) return kV010;  // spec: a missing cniVersion means 0.1.0
  auto v = Version::parse(text);
  if (!v || !v->supported()) {
    std::string list;
    for (const auto& s : supported_version_strings()) list += (list.empty() ? "" : ", ") + s;
    fail(kIncompatibleVersion, "incompatible CNI versions: config is '" + text + "', plugin supports [" + list + "]");
  }
  return *v;
}

// "aa:bb:cc:dd:ee:ff" or with '-', any case; returned lower-case with ':'.
std::string normalize_mac(const std::string& text, const std::string& key) {
  const auto mac = net::parse_mac(text);
  if (!mac) invalid_config(key, "value '" + text + "': not a MAC address (expected aa:bb:cc:dd:ee:ff)");
  return net::format_mac(*mac);
}

std::vector<std::string> ip_list(const json& obj, const std::string& path, const std::string& key) {
  auto list = get_string_list(obj, path, key).value_or(std::vector<std::string>{});
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!net::IpPrefix::parse_address_or_prefix(list[i]))
      invalid_config(idx(key_path(path, key), i), "value '" + list[i] + "': not an IP address or CIDR");
  }
  return list;
}

// Finds `key` in any letter case: CRI sends HostPort/ContainerPort/Protocol/HostIP.
const json* find_ci(const json& obj, std::string_view key, std::string& found) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (equals_ci(it.key(), key) && !it.value().is_null()) {
      found = it.key();
      return &it.value();
    }
  }
  return nullptr;
}

std::uint16_t port_field(const json& o, const std::string& path, std::string_view key, bool& present) {
  std::string actual;
  present = find_ci(o, key, actual) != nullptr;
  if (!present) return 0;
  return static_cast<std::uint16_t>(*get_int(o, path, actual, 1, 65535));
}

PortMapping parse_port_mapping(const json& o, const std::string& path) {
  if (!o.is_object()) invalid_config(path, "expected an object, got " + o.dump());
  PortMapping pm;
  bool present = false;
  pm.host_port = port_field(o, path, "hostPort", present);
  if (!present) invalid_config(key_path(path, "hostPort"), "missing");
  pm.container_port = port_field(o, path, "containerPort", present);
  if (!present) invalid_config(key_path(path, "containerPort"), "missing");
  std::string actual;
  if (find_ci(o, "protocol", actual) != nullptr) {
    const std::string proto = *get_string(o, path, actual);
    if (!proto.empty()) {  // "" = tcp
      const auto p = net::parse_l4proto(proto);
      if (!p) invalid_config(key_path(path, actual), "value '" + proto + "': must be tcp, udp or sctp");
      pm.protocol = *p;
    }
  }
  if (find_ci(o, "hostIP", actual) != nullptr) {
    const std::string text = *get_string(o, path, actual);
    if (!text.empty()) {
      const net::IpAddress ip = parse_ip_field(text, key_path(path, actual));
      if (!ip.is_zero()) pm.host_ip = ip;  // 0.0.0.0 / :: mean every address
    }
  }
  return pm;
}

// Two mappings of one host port and protocol whose host addresses overlap ("" = all) would be two
// DNAT rules for the same packets, of which only the first ever matches: refuse them up front.
void check_port_conflicts(const std::vector<PortMapping>& pms, const std::string& key) {
  for (std::size_t i = 0; i < pms.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const PortMapping& a = pms[j];
      const PortMapping& b = pms[i];
      if (a.host_port != b.host_port || a.protocol != b.protocol) continue;
      if (a.host_ip && b.host_ip && a.host_ip != b.host_ip) continue;
      const bool same = a == b;
      invalid_config(idx(key, i), "hostPort " + b.describe() + (same ? " duplicates " : " conflicts with ") +
                                      idx(key, j) + " (" + a.describe() + " -> containerPort " +
                                      std::to_string(a.container_port) + ")");
    }
  }
}

void parse_runtime_config(const json& j, NetConf& c) {
  const json* rc = get_object(j, "", "runtimeConfig");
  if (rc == nullptr) return;
  const std::string path = "runtimeConfig";
  if (const json* pms = get_array(*rc, path, "portMappings")) {
    for (std::size_t i = 0; i < pms->size(); ++i)
      c.runtime_config.port_mappings.push_back(parse_port_mapping((*pms)[i], idx(path + ".portMappings", i)));
    check_port_conflicts(c.runtime_config.port_mappings, path + ".portMappings");
  }
  if (const json* ranges = get_array(*rc, path, "ipRanges")) c.runtime_config.ip_ranges = *ranges;
  c.runtime_config.ips = ip_list(*rc, path, "ips");
  if (auto mac = get_string(*rc, path, "mac"); mac && !mac->empty())
    c.runtime_config.mac = normalize_mac(*mac, path + ".mac");
}

void parse_args(const json& j, NetConf& c) {
  const json* args = get_object(j, "", "args");
  if (args == nullptr) return;
  const json* cni = get_object(*args, "args", "cni");
  if (cni == nullptr) return;
  c.args.ips = ip_list(*cni, "args.cni", "ips");
  if (auto mac = get_string(*cni, "args.cni", "mac"); mac && !mac->empty())
    c.args.mac = normalize_mac(*mac, "args.cni.mac");
}

std::vector<Attachment> parse_attachments(const json& list, const std::string& key) {
  std::vector<Attachment> out;
  out.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string p = idx(key, i);
    const json& o = list[i];
    if (!o.is_object()) invalid_config(p, "expected an object, got " + o.dump());
    out.push_back({get_string(o, p, "containerID").value_or(""), get_string(o, p, "ifname").value_or("")});
  }
  return out;
}

void parse_capabilities(const json& j, NetConf& c) {
  const json* caps = get_object(j, "", "capabilities");
  if (caps == nullptr) return;
  for (auto it = caps->begin(); it != caps->end(); ++it) {
    if (auto on = get_bool(*caps, "capabilities", it.key())) c.capabilities[it.key()] = *on;  // null: absent
  }
}

}  // namespace

NetConf parse_netconf(std::string_view text) {
  NetConf c;
  c.raw = parse_object(text);
  const json& j = c.raw;
  c.version = version_of(j, c.cni_version_text);

  auto name = get_string(j, "", "name");
  if (!name || name->empty()) invalid_config("name", "missing network name");
  if (name->size() > kMaxNameLength)
    invalid_config("name",
                   "value " + abbreviate(*name) + ": longer than " + std::to_string(kMaxNameLength) + " characters");
  if (!valid_name(*name)) invalid_config("name", "value '" + *name + "': must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$");
  c.name = *name;
  c.type = get_string(j, "", "type").value_or("");
  if (c.type.find_first_of("/\\") != std::string::npos)
    invalid_config("type", "value '" + c.type + "': must not contain '/' or '\\'");

  if (const json* ipam = get_object(j, "", "ipam")) {
    c.ipam = *ipam;
    if (auto t = get_string(*ipam, "ipam", "type"); t && t->find_first_of("/\\") != std::string::npos)
      invalid_config("ipam.type", "value '" + *t + "': must not contain '/' or '\\'");
  }
  if (const json* dns = get_object(j, "", "dns")) c.dns = dns_from_json(*dns, "dns");
  c.ip_masq = get_bool(j, "", "ipMasq").value_or(false);
  parse_capabilities(j, c);
  parse_runtime_config(j, c);
  parse_args(j, c);

  if (const json* prev = get_object(j, "", "prevResult")) c.prev_result = result_from_json(*prev, c.version);

  // GC: prefer the spec's key; current libcni also sends the older misspelled one.
  if (const json* v = get_array(j, "", "cni.dev/valid-attachments")) {
    c.valid_attachments = parse_attachments(*v, "cni.dev/valid-attachments");
  } else if (const json* legacy = get_array(j, "", "cni.dev/attachments")) {
    c.valid_attachments = parse_attachments(*legacy, "cni.dev/attachments");
  }

  c.log_file = get_string(j, "", "logFile").value_or("");
  c.log_level = get_string(j, "", "logLevel").value_or("");
  if (log::Level ignored; !c.log_level.empty() && !log::parse_level(c.log_level, ignored))
    invalid_config("logLevel", "value '" + c.log_level + "': must be debug, info, warning, error or panic");
  return c;
}

}  // namespace tether::cni
