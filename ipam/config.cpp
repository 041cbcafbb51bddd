// IPAM config → Plan (host-local's LoadIPAMConfig, plus the validation it lacks).
#include "ipam/config.hpp"

#include "ipam/range_parse.hpp"
#include "lib/cni/args.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"

namespace tether::ipam {
namespace {

std::vector<RangeSet> collect_range_sets(const cni::NetConf& conf) {
  std::vector<RangeSet> sets;
  const cni::json& rt = conf.runtime_config.ip_ranges;
  for (std::size_t i = 0; rt.is_array() && i < rt.size(); ++i)
    sets.push_back(parse_range_set(rt[i], "runtimeConfig.ipRanges[" + std::to_string(i) + "]"));
  // Deprecated single range at the top of `ipam`: becomes the first configured set.
  if (cni::get_string(conf.ipam, "ipam", "subnet")) sets.push_back(RangeSet{{parse_range(conf.ipam, "ipam")}});
  if (const cni::json* ranges = cni::get_array(conf.ipam, "ipam", "ranges")) {
    for (std::size_t i = 0; i < ranges->size(); ++i)
      sets.push_back(parse_range_set((*ranges)[i], "ipam.ranges[" + std::to_string(i) + "]"));
  }
  if (sets.empty()) cni::invalid_config("ipam.ranges", "no IP ranges specified (need ranges or subnet)");
  return sets;
}

void check_range_sets(const std::vector<RangeSet>& sets, const cni::Version& version) {
  int v4 = 0, v6 = 0;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    (sets[i].family() == net::Family::V4 ? v4 : v6)++;
    for (std::size_t j = 0; j < i; ++j) {
      for (const auto& a : sets[i].ranges) {
        for (const auto& b : sets[j].ranges) {
          if (a.overlaps(b))
            cni::invalid_config("ipam.ranges", "range set " + std::to_string(i) + " (" + a.to_string() +
                                                   ") overlaps range set " + std::to_string(j) + " (" + b.to_string() +
                                                   ")");
        }
      }
    }
  }
  // 0.1.0/0.2.0 results carry one ip4 and one ip6 only.
  if ((v4 > 1 || v6 > 1) && version < cni::kV030) {
    cni::invalid_config("ipam.ranges",
                        "cniVersion " + version.to_string() + " allows at most one range set per address family");
  }
}

std::vector<cni::Route> parse_routes(const cni::json& ipam) {
  std::vector<cni::Route> out;
  const cni::json* routes = cni::get_array(ipam, "ipam", "routes");
  if (routes == nullptr) return out;
  for (std::size_t i = 0; i < routes->size(); ++i) {
    const std::string p = "ipam.routes[" + std::to_string(i) + "]";
    const cni::json& r = (*routes)[i];
    if (!r.is_object()) cni::invalid_config(p, "expected an object with 'dst', got " + r.dump());
    auto dst = cni::get_string(r, p, "dst");
    if (!dst) cni::invalid_config(p + ".dst", "missing");
    cni::Route route;
    route.dst = cni::parse_prefix_field(*dst, p + ".dst");
    if (auto gw = cni::get_string(r, p, "gw")) route.gw = cni::parse_ip_field(*gw, p + ".gw");
    const auto opt_int = [&](const char* key, std::int64_t min, std::int64_t max) -> std::optional<int> {
      if (auto v = cni::get_int(r, p, key, min, max)) return static_cast<int>(*v);
      return std::nullopt;
    };
    route.mtu = opt_int("mtu", 0, 65535);
    route.advmss = opt_int("advmss", 0, 65535);
    route.priority = opt_int("priority", 0, 0x7fffffff);
    route.table = opt_int("table", 0, 0x7fffffff);
    route.scope = opt_int("scope", 0, 255);
    out.push_back(route);
  }
  return out;
}

struct Requested {
  net::IpAddress ip;
  std::string source;  // for messages: "CNI_ARGS IP", "args.cni.ips", "runtimeConfig.ips"
};

std::vector<Requested> collect_requested(const cni::NetConf& conf, const std::string& cni_args) {
  std::vector<Requested> out;
  const auto add = [&](const std::string& text, const std::string& source, int code) {
    // Accept "ip" and "ip/prefix" (CONVENTIONS.md); the prefix comes from the range.
    auto p = net::IpPrefix::parse_address_or_prefix(text);
    if (!p) cni::fail(code, source + ": invalid IP address '" + text + "'");
    out.push_back({p->address(), source});
  };
  if (auto ip = cni::parse_cni_args(cni_args).get("IP")) {
    std::size_t pos = 0;
    while (pos <= ip->size()) {
      auto comma = ip->find(',', pos);
      if (comma == std::string::npos) comma = ip->size();
      std::string item = ip->substr(pos, comma - pos);
      pos = comma + 1;
      while (!item.empty() && item.back() == ' ') item.pop_back();
      while (!item.empty() && item.front() == ' ') item.erase(item.begin());
      if (!item.empty()) add(item, "CNI_ARGS IP", cni::kInvalidEnv);
    }
  }
  for (const auto& s : conf.args.ips) add(s, "args.cni.ips", cni::kInvalidConfig);
  for (const auto& s : conf.runtime_config.ips) add(s, "runtimeConfig.ips", cni::kInvalidConfig);
  return out;
}

// Each requested address must land in its own range set and must not be the gateway.
std::vector<std::optional<net::IpAddress>> assign_requested(const std::vector<Requested>& reqs,
                                                            const std::vector<RangeSet>& sets) {
  std::vector<std::optional<net::IpAddress>> per_set(sets.size());
  for (const auto& req : reqs) {
    const std::string what = req.source + " " + req.ip.to_string();
    std::size_t idx = sets.size();
    for (std::size_t i = 0; i < sets.size() && idx == sets.size(); ++i) {
      if (sets[i].contains(req.ip)) idx = i;
    }
    if (idx == sets.size())
      cni::invalid_config(req.source, "requested IP " + req.ip.to_string() + " is in no range set");
    if (sets[idx].range_for(req.ip)->gateway == req.ip)
      cni::invalid_config(req.source, "requested IP " + req.ip.to_string() + " is the gateway of its range");
    if (per_set[idx] && *per_set[idx] != req.ip) {
      cni::invalid_config(req.source, "requested IPs " + per_set[idx]->to_string() + " and " + what +
                                          " both fall in range set " + std::to_string(idx) +
                                          ", which yields one address");
    }
    per_set[idx] = req.ip;
  }
  return per_set;
}

}  // namespace

StoreLocation store_location(const cni::NetConf& conf) {
  StoreLocation loc;
  loc.data_dir = cni::get_string(conf.ipam, "ipam", "dataDir").value_or("");
  if (loc.data_dir.empty()) loc.data_dir = kDefaultDataDir;
  // The name becomes a directory under dataDir: it must not contain '/' or be "." / "..".
  if (!cni::valid_name(conf.name))
    cni::invalid_config("name", "value '" + conf.name + "': must match ^[A-Za-z0-9][A-Za-z0-9_.-]*$");
  loc.network = conf.name;
  loc.fsync = cni::get_bool(conf.ipam, "ipam", "fsync").value_or(false);
  return loc;
}

Plan build_plan(const cni::NetConf& conf, const std::string& cni_args) {
  Plan plan;
  plan.store = store_location(conf);
  plan.range_sets = collect_range_sets(conf);
  check_range_sets(plan.range_sets, conf.version);
  plan.routes = parse_routes(conf.ipam);
  plan.resolv_conf = cni::get_string(conf.ipam, "ipam", "resolvConf").value_or("");
  plan.requested = assign_requested(collect_requested(conf, cni_args), plan.range_sets);
  return plan;
}

}  // namespace tether::ipam
