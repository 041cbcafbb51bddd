#include "lib/cni/prev_result_merge.hpp"

namespace tether::cni {

Result merge_into_prev_result(const Result& prev, const Result& own) {
  Result out = prev;
  const int shift = static_cast<int>(prev.interfaces.size());
  out.interfaces.insert(out.interfaces.end(), own.interfaces.begin(), own.interfaces.end());
  for (IpConfig ip : own.ips) {
    if (ip.interface) *ip.interface += shift;
    out.ips.push_back(std::move(ip));
  }
  out.routes.insert(out.routes.end(), own.routes.begin(), own.routes.end());
  if (!own.dns.nameservers.empty()) out.dns.nameservers = own.dns.nameservers;
  if (!own.dns.domain.empty()) out.dns.domain = own.dns.domain;
  if (!own.dns.search.empty()) out.dns.search = own.dns.search;
  if (!own.dns.options.empty()) out.dns.options = own.dns.options;
  return out;
}

}  // namespace tether::cni
