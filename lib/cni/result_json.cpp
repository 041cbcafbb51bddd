#include "lib/cni/result_json.hpp"

#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"

namespace tether::cni {
namespace {

// ---- printing ----

json interface_to_json(const Interface& i, bool v11) {
  json o = json::object();
  o["name"] = i.name;
  if (!i.mac.empty()) o["mac"] = i.mac;
  if (v11 && i.mtu) o["mtu"] = *i.mtu;
  if (!i.sandbox.empty()) o["sandbox"] = i.sandbox;
  if (v11 && !i.socket_path.empty()) o["socketPath"] = i.socket_path;
  if (v11 && !i.pci_id.empty()) o["pciID"] = i.pci_id;
  return o;
}

json route_to_json(const Route& r, bool v11) {
  json o = json::object();
  o["dst"] = r.dst.to_string();
  if (r.gw) o["gw"] = r.gw->to_string();
  if (v11) {
    if (r.mtu) o["mtu"] = *r.mtu;
    if (r.advmss) o["advmss"] = *r.advmss;
    if (r.priority) o["priority"] = *r.priority;
    if (r.table) o["table"] = *r.table;
    if (r.scope) o["scope"] = *r.scope;
  }
  return o;
}

// 0.3.0 .. 1.1.0: interfaces/ips/routes lists; 0.3.x/0.4.0 add a per-IP "version".
json to_json_modern(const Result& r, const Version& v) {
  const bool v11 = v >= kV110;
  const bool ip_version = v < kV100;
  json o = json::object();
  if (!r.interfaces.empty()) {
    json list = json::array();
    for (const auto& i : r.interfaces) list.push_back(interface_to_json(i, v11));
    o["interfaces"] = std::move(list);
  }
  if (!r.ips.empty()) {
    json list = json::array();
    for (const auto& ip : r.ips) {
      json e = json::object();
      if (ip_version) e["version"] = ip.address.address().is_v4() ? "4" : "6";
      e["address"] = ip.address.to_string();
      if (ip.gateway) e["gateway"] = ip.gateway->to_string();
      if (ip.interface) e["interface"] = *ip.interface;
      list.push_back(std::move(e));
    }
    o["ips"] = std::move(list);
  }
  if (!r.routes.empty()) {
    json list = json::array();
    for (const auto& rt : r.routes) list.push_back(route_to_json(rt, v11));
    o["routes"] = std::move(list);
  }
  return o;
}

// 0.1.0 / 0.2.0: {ip4: {ip, gateway, routes}, ip6: {...}}; only the first IP of each family (at
// least one IP: ensure_expressible).
json to_json_legacy(const Result& r) {
  json o = json::object();
  for (const net::Family fam : {net::Family::V4, net::Family::V6}) {
    const IpConfig* first = nullptr;
    for (const auto& ip : r.ips) {
      if (ip.address.family() == fam) {
        first = &ip;
        break;
      }
    }
    if (first == nullptr) continue;
    json ipc = json::object();
    ipc["ip"] = first->address.to_string();
    if (first->gateway) ipc["gateway"] = first->gateway->to_string();
    json routes = json::array();
    for (const auto& rt : r.routes) {
      if (rt.dst.family() == fam) routes.push_back(route_to_json(rt, false));
    }
    if (!routes.empty()) ipc["routes"] = std::move(routes);
    o[fam == net::Family::V4 ? "ip4" : "ip6"] = std::move(ipc);
  }
  return o;
}

// ---- parsing ----

std::string idx(const std::string& key, std::size_t i) { return key + "[" + std::to_string(i) + "]"; }

std::optional<int> get_opt_int(const json& o, const std::string& path, const char* key, std::int64_t min,
                               std::int64_t max) {
  auto v = get_int(o, path, key, min, max);
  if (!v) return std::nullopt;
  return static_cast<int>(*v);
}

std::string require_string(const json& o, const std::string& path, const char* key) {
  auto v = get_string(o, path, key);
  if (!v) invalid_config(key_path(path, key), "missing");
  return *v;
}

Route route_from_json(const json& o, const std::string& path) {
  if (!o.is_object()) invalid_config(path, "expected an object, got " + o.dump());
  Route r;
  r.dst = parse_prefix_field(require_string(o, path, "dst"), key_path(path, "dst"));
  if (auto gw = get_string(o, path, "gw"); gw && !gw->empty()) {
    r.gw = parse_ip_field(*gw, key_path(path, "gw"));
    if (r.gw->family() != r.dst.family())
      invalid_config(key_path(path, "gw"), "value '" + *gw + "': family differs from dst");
  }
  // Versions before 1.1 never defined these fields; libcni carries them anyway, so read them everywhere.
  r.mtu = get_opt_int(o, path, "mtu", 0, 0x7fffffff);
  r.advmss = get_opt_int(o, path, "advmss", 0, 0x7fffffff);
  r.priority = get_opt_int(o, path, "priority", 0, 0x7fffffff);
  r.table = get_opt_int(o, path, "table", 0, 0x7fffffff);
  r.scope = get_opt_int(o, path, "scope", 0, 255);
  return r;
}

void routes_from_json(const json& o, const std::string& path, std::vector<Route>& out) {
  const json* routes = get_array(o, path, "routes");
  if (routes == nullptr) return;
  for (std::size_t i = 0; i < routes->size(); ++i)
    out.push_back(route_from_json((*routes)[i], idx(key_path(path, "routes"), i)));
}

Result from_json_modern(const json& j, const std::string& root) {
  Result r;
  if (const json* ifs = get_array(j, root, "interfaces")) {
    for (std::size_t i = 0; i < ifs->size(); ++i) {
      const std::string p = idx(key_path(root, "interfaces"), i);
      const json& o = (*ifs)[i];
      if (!o.is_object()) invalid_config(p, "expected an object, got " + o.dump());
      Interface itf;
      itf.name = require_string(o, p, "name");
      itf.mac = get_string(o, p, "mac").value_or("");
      if (auto mtu = get_int(o, p, "mtu", 0, 0xffffffffLL)) itf.mtu = static_cast<std::uint32_t>(*mtu);
      itf.sandbox = get_string(o, p, "sandbox").value_or("");
      itf.socket_path = get_string(o, p, "socketPath").value_or("");
      itf.pci_id = get_string(o, p, "pciID").value_or("");
      r.interfaces.push_back(std::move(itf));
    }
  }
  if (const json* ips = get_array(j, root, "ips")) {
    for (std::size_t i = 0; i < ips->size(); ++i) {
      const std::string p = idx(key_path(root, "ips"), i);
      const json& o = (*ips)[i];
      if (!o.is_object()) invalid_config(p, "expected an object, got " + o.dump());
      IpConfig ip;
      ip.address = parse_prefix_field(require_string(o, p, "address"), key_path(p, "address"));
      if (auto gw = get_string(o, p, "gateway"); gw && !gw->empty()) {
        ip.gateway = parse_ip_field(*gw, key_path(p, "gateway"));
        if (ip.gateway->family() != ip.address.family())
          invalid_config(key_path(p, "gateway"), "value '" + *gw + "': family differs from address");
      }
      if (auto version = get_string(o, p, "version")) {
        const char* want = ip.address.address().is_v4() ? "4" : "6";
        if (*version != want) invalid_config(key_path(p, "version"), "value '" + *version + "': address is IPv" + want);
      }
      if (auto itf = get_int(o, p, "interface", 0, 0x7fffffff)) {
        if (static_cast<std::size_t>(*itf) >= r.interfaces.size())
          invalid_config(key_path(p, "interface"), "value " + std::to_string(*itf) + ": no such interface index (" +
                                                       std::to_string(r.interfaces.size()) + " interfaces)");
        ip.interface = static_cast<int>(*itf);
      }
      r.ips.push_back(ip);
    }
  }
  routes_from_json(j, root, r.routes);
  if (const json* dns = get_object(j, root, "dns")) r.dns = dns_from_json(*dns, key_path(root, "dns"));
  return r;
}

Result from_json_legacy(const json& j, const std::string& root) {
  Result r;
  for (const char* fam_key : {"ip4", "ip6"}) {
    const json* o = get_object(j, root, fam_key);
    if (o == nullptr) continue;
    const std::string p = key_path(root, fam_key);
    IpConfig ip;
    ip.address = parse_prefix_field(require_string(*o, p, "ip"), key_path(p, "ip"));
    const net::Family want = fam_key[2] == '4' ? net::Family::V4 : net::Family::V6;
    if (ip.address.family() != want)
      invalid_config(key_path(p, "ip"), "value '" + ip.address.to_string() + "': wrong family");
    if (auto gw = get_string(*o, p, "gateway"); gw && !gw->empty()) {
      ip.gateway = parse_ip_field(*gw, key_path(p, "gateway"));
      if (ip.gateway->family() != want) invalid_config(key_path(p, "gateway"), "value '" + *gw + "': wrong family");
    }
    r.ips.push_back(ip);
    routes_from_json(*o, p, r.routes);
  }
  if (const json* dns = get_object(j, root, "dns")) r.dns = dns_from_json(*dns, key_path(root, "dns"));
  return r;
}

}  // namespace

json dns_to_json(const Dns& d) {
  json o = json::object();
  if (!d.nameservers.empty()) o["nameservers"] = d.nameservers;
  if (!d.domain.empty()) o["domain"] = d.domain;
  if (!d.search.empty()) o["search"] = d.search;
  if (!d.options.empty()) o["options"] = d.options;
  return o;
}

Dns dns_from_json(const json& j, const std::string& key_for_errors) {
  if (!j.is_object()) invalid_config(key_for_errors, "expected an object, got " + j.dump());
  Dns d;
  d.nameservers = get_string_list(j, key_for_errors, "nameservers").value_or(std::vector<std::string>{});
  for (std::size_t i = 0; i < d.nameservers.size(); ++i)
    parse_ip_field(d.nameservers[i], idx(key_path(key_for_errors, "nameservers"), i));
  d.domain = get_string(j, key_for_errors, "domain").value_or("");
  d.search = get_string_list(j, key_for_errors, "search").value_or(std::vector<std::string>{});
  d.options = get_string_list(j, key_for_errors, "options").value_or(std::vector<std::string>{});
  return d;
}

void ensure_expressible(const Result& r, const Version& v) {
  if (v >= kV030 || !r.ips.empty()) return;
  fail(kIncompatibleVersion, "cannot express a result without IP addresses in cniVersion " + v.to_string() +
                                 " (0.1.0/0.2.0 results are IP-only): configure ipam or use cniVersion 0.3.0 or later");
}

json result_to_json(const Result& r, const Version& v) {
  if (!v.supported()) fail(kIncompatibleVersion, "cannot print a result in unsupported cniVersion " + v.to_string());
  ensure_expressible(r, v);
  json o = v < kV030 ? to_json_legacy(r) : to_json_modern(r, v);
  // libcni leaves out an empty dns object.
  if (!r.dns.empty()) o["dns"] = dns_to_json(r.dns);
  o["cniVersion"] = v.to_string();
  return o;
}

std::string result_to_string(const Result& r, const Version& v) { return result_to_json(r, v).dump(); }

Result result_from_json(const json& j, const Version& v) { return result_from_json(j, v, "prevResult"); }

Result result_from_json(const json& j, const Version& v, const std::string& root_key) {
  if (!j.is_object()) invalid_config(root_key, "expected an object, got " + std::string(j.type_name()));
  Version version = v;
  // A result carries its own version; libcni fills in the config's version when it is missing.
  if (auto text = get_string(j, root_key, "cniVersion"); text && !text->empty()) {
    auto parsed = Version::parse(*text);
    if (!parsed || !parsed->supported())
      fail(kIncompatibleVersion, "unsupported " + key_path(root_key, "cniVersion") + " '" + *text + "'");
    version = *parsed;
  }
  if (!version.supported())
    fail(kIncompatibleVersion, "unsupported cniVersion " + version.to_string() + " for " + root_key);
  return version < kV030 ? from_json_legacy(j, root_key) : from_json_modern(j, root_key);
}

}  // namespace tether::cni
