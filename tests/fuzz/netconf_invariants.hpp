#pragma once
// What must hold for any NetConf that parse_netconf accepted.
#include <string>

#include "lib/cni/env.hpp"
#include "lib/cni/types.hpp"
#include "tests/fuzz/result_invariants.hpp"

namespace tether::fuzz {

inline bool normalized_mac(const std::string& mac) {
  if (mac.size() != 17) return false;
  for (std::size_t i = 0; i < mac.size(); ++i) {
    const char c = mac[i];
    const bool ok = i % 3 == 2 ? c == ':' : ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    if (!ok) return false;
  }
  return true;
}

inline void check_netconf(const cni::NetConf& c) {
  expect(c.version.supported(), "accepted an unsupported version", c.version.to_string());
  expect(cni::valid_name(c.name), "accepted an unsafe network name", c.name);
  expect(c.type.find('/') == std::string::npos, "accepted a type with '/'", c.type);
  expect(c.raw.is_object() && c.ipam.is_object(), "raw/ipam not objects");
  if (auto t = c.ipam.find("type"); t != c.ipam.end() && t->is_string())
    expect(t->get<std::string>().find('/') == std::string::npos, "accepted an ipam.type with '/'");
  for (const auto& pm : c.runtime_config.port_mappings) {
    expect(pm.host_port >= 1 && pm.container_port >= 1, "port 0 accepted");
    expect(pm.protocol == net::L4Proto::Tcp || pm.protocol == net::L4Proto::Udp || pm.protocol == net::L4Proto::Sctp,
           "bad protocol", std::to_string(static_cast<int>(pm.protocol)));
    expect(!pm.host_ip || !pm.host_ip->is_zero(), "hostIP 0.0.0.0/:: not normalised to 'all'", pm.describe());
  }
  const auto& pms = c.runtime_config.port_mappings;
  for (std::size_t i = 0; i < pms.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const bool overlap = !pms[i].host_ip || !pms[j].host_ip || pms[i].host_ip == pms[j].host_ip;
      expect(!(overlap && pms[i].host_port == pms[j].host_port && pms[i].protocol == pms[j].protocol),
             "conflicting port mappings accepted", std::to_string(pms[i].host_port));
    }
  }
  expect(c.runtime_config.ip_ranges.is_array(), "ipRanges not a list");
  for (const auto& ip : c.runtime_config.ips)
    expect(net::IpPrefix::parse_address_or_prefix(ip).has_value(), "runtimeConfig.ips entry unparsable", ip);
  for (const auto& ip : c.args.ips)
    expect(net::IpPrefix::parse_address_or_prefix(ip).has_value(), "args.cni.ips entry unparsable", ip);
  expect(c.runtime_config.mac.empty() || normalized_mac(c.runtime_config.mac), "mac not normalized",
         c.runtime_config.mac);
  expect(c.args.mac.empty() || normalized_mac(c.args.mac), "mac not normalized", c.args.mac);
  for (const auto& ns : c.dns.nameservers)
    expect(net::IpAddress::parse(ns).has_value(), "dns nameserver unparsable", ns);
  if (c.prev_result) check_result_round_trips(*c.prev_result);
}

}  // namespace tether::fuzz
