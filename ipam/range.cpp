// Range / RangeSet parsing and validation (host-local's Range.Canonicalize, RangeSet.Canonicalize).
#include "ipam/range_parse.hpp"

#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"

namespace tether::ipam {

bool Range::contains(const net::IpAddress& a) const { return subnet.contains(a) && start <= a && a <= end; }

bool Range::overlaps(const Range& o) const {
  if (subnet.family() != o.subnet.family()) return false;
  return start <= o.end && o.start <= end;
}

std::string Range::to_string() const {
  return subnet.to_string() + " (" + start.to_string() + "-" + end.to_string() + ")";
}

bool RangeSet::contains(const net::IpAddress& a) const { return range_for(a) != nullptr; }

const Range* RangeSet::range_for(const net::IpAddress& a) const {
  for (const auto& r : ranges) {
    if (r.contains(a)) return &r;
  }
  return nullptr;
}

std::string RangeSet::to_string() const {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ',';
    out += r.to_string();
  }
  return out;
}

namespace {

net::IpAddress address_in(const net::IpPrefix& subnet, const std::string& text, const std::string& key) {
  const net::IpAddress a = cni::parse_ip_field(text, key);
  if (!subnet.contains(a)) cni::invalid_config(key, "value '" + text + "' is outside subnet " + subnet.to_string());
  return a;
}

}  // namespace

Range parse_range(const cni::json& obj, const std::string& path) {
  if (!obj.is_object()) cni::invalid_config(path, "expected an object with 'subnet', got " + obj.dump());
  const auto subnet_text = cni::get_string(obj, path, "subnet");
  const std::string subnet_key = cni::key_path(path, "subnet");
  if (!subnet_text) cni::invalid_config(subnet_key, "missing");
  Range r;
  r.subnet = cni::parse_prefix_field(*subnet_text, subnet_key);
  if (!r.subnet.host_bits_zero()) {
    cni::invalid_config(subnet_key, "value '" + *subnet_text + "' has host bits set; the network address is " +
                                        r.subnet.network().to_string());
  }
  // Network + gateway + at least one host: anything smaller than /30 (/126) has nothing to give.
  if (r.subnet.length() > r.subnet.max_length() - 2)
    cni::invalid_config(subnet_key, "value '" + *subnet_text + "' is too small to allocate from");

  const net::IpAddress first_host = r.subnet.first().next();
  r.gateway = first_host;
  if (auto gw = cni::get_string(obj, path, "gateway"))
    r.gateway = address_in(r.subnet, *gw, cni::key_path(path, "gateway"));
  r.start = first_host;
  if (auto s = cni::get_string(obj, path, "rangeStart"))
    r.start = address_in(r.subnet, *s, cni::key_path(path, "rangeStart"));
  // host-local's default end: the last address, minus the broadcast for IPv4.
  r.end = r.subnet.family() == net::Family::V4 ? r.subnet.last().prev() : r.subnet.last();
  if (auto e = cni::get_string(obj, path, "rangeEnd"))
    r.end = address_in(r.subnet, *e, cni::key_path(path, "rangeEnd"));
  if (r.end < r.start) {
    cni::invalid_config(cni::key_path(path, "rangeEnd"),
                        "value '" + r.end.to_string() + "' is before rangeStart '" + r.start.to_string() + "'");
  }
  return r;
}

RangeSet parse_range_set(const cni::json& arr, const std::string& path) {
  if (!arr.is_array()) cni::invalid_config(path, "expected a list of ranges, got " + arr.dump());
  if (arr.empty()) cni::invalid_config(path, "empty range set");
  RangeSet set;
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    Range r = parse_range(arr[i], p);
    if (!set.ranges.empty() && r.subnet.family() != set.family())
      cni::invalid_config(p + ".subnet", "mixes address families within one range set");
    for (std::size_t j = 0; j < set.ranges.size(); ++j) {
      if (r.overlaps(set.ranges[j]))
        cni::invalid_config(p, "range " + r.to_string() + " overlaps " + path + "[" + std::to_string(j) + "]");
    }
    set.ranges.push_back(r);
  }
  return set;
}

}  // namespace tether::ipam
