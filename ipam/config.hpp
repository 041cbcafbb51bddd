#pragma once
// host-local's IPAM configuration, validated into a Plan before anything touches the store.
// Every validation failure is code 7 naming the key (e.g. "ipam.ranges[1][0].gateway").
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "lib/cni/types.hpp"
#include "lib/net/ip.hpp"

namespace tether::ipam {

inline constexpr const char* kDefaultDataDir = "/var/lib/cni/networks";

// One pool: [start, end] inside subnet; gateway is never handed out.
struct Range {
  net::IpPrefix subnet;  // host bits zero
  net::IpAddress start;  // inclusive
  net::IpAddress end;    // inclusive
  net::IpAddress gateway;
  bool contains(const net::IpAddress& a) const;  // in subnet and start <= a <= end
  bool overlaps(const Range& o) const;
  std::string to_string() const;  // "10.0.0.0/24 (10.0.0.2-10.0.0.254)"
};

// Ranges of one family that together yield one address. Non-empty.
struct RangeSet {
  std::vector<Range> ranges;
  net::Family family() const { return ranges.front().subnet.family(); }
  bool contains(const net::IpAddress& a) const;
  const Range* range_for(const net::IpAddress& a) const;  // nullptr when outside
  std::string to_string() const;
};

// Where the store lives: enough for DEL and GC, which must work even if the ranges changed.
struct StoreLocation {
  std::string data_dir;  // kDefaultDataDir when unset
  std::string network;   // conf.name (validated: cannot escape data_dir)
  bool fsync = false;    // ipam.fsync: make every store write durable before returning
};

struct Plan {
  StoreLocation store;
  std::vector<RangeSet> range_sets;  // runtimeConfig.ipRanges, legacy top-level, then ipam.ranges
  std::vector<cni::Route> routes;
  std::string resolv_conf;  // path; "" = none
  // One entry per range set: the address requested for it (CNI_ARGS IP=, args.cni.ips, runtimeConfig.ips).
  std::vector<std::optional<net::IpAddress>> requested;
};

// Full validation (ADD, CHECK, STATUS). `cni_args` is the raw CNI_ARGS value.
Plan build_plan(const cni::NetConf& conf, const std::string& cni_args);
StoreLocation store_location(const cni::NetConf& conf);

// resolv.conf text → dns (nameserver, domain, search, options; '#'/';' comments).
cni::Dns parse_resolv_conf(const std::string& text);
// Reads and parses the file; throws code 7 naming ipam.resolvConf when unreadable.
cni::Dns load_resolv_conf(const std::string& path);

}  // namespace tether::ipam
