#pragma once
// What must hold for any Result the parser accepted, in every spec version:
//  - it prints in every version (only 0.1.0/0.2.0 may refuse, with code 1, a result without IPs);
//  - what we print parses back at the same version, into exactly the projection of the original
//    that the version can express (1.1.0: lossless; 1.0.0 and 0.3.x/0.4.0: no 1.1-only fields;
//    0.1.0/0.2.0: first IP per family, its family's routes, dns);
//  - the printed text is valid JSON carrying the requested cniVersion.
#include <string>

#include "lib/cni/error.hpp"
#include "lib/cni/result_json.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace tether::fuzz {

inline cni::Result without_v11_fields(cni::Result r) {
  for (auto& i : r.interfaces) {
    i.mtu.reset();
    i.socket_path.clear();
    i.pci_id.clear();
  }
  for (auto& rt : r.routes) rt.mtu = rt.advmss = rt.priority = rt.table = rt.scope = std::nullopt;
  return r;
}

inline cni::Result legacy_projection(const cni::Result& full) {
  const cni::Result r = without_v11_fields(full);
  cni::Result out;
  for (const net::Family fam : {net::Family::V4, net::Family::V6}) {
    for (const auto& ip : r.ips) {
      if (ip.address.family() != fam) continue;
      out.ips.push_back({ip.address, ip.gateway, std::nullopt});
      for (const auto& rt : r.routes) {
        if (rt.dst.family() == fam) out.routes.push_back(rt);
      }
      break;
    }
  }
  out.dns = r.dns;
  return out;
}

inline cni::Result projection(const cni::Result& r, const cni::Version& v) {
  if (v >= cni::kV110) return r;
  if (v >= cni::kV030) return without_v11_fields(r);
  return legacy_projection(r);
}

inline void check_result_round_trips(const cni::Result& r) {
  for (const auto& text : cni::supported_version_strings()) {
    const cni::Version v = *cni::Version::parse(text);
    std::string printed;
    try {
      printed = cni::result_to_string(r, v);
    } catch (const Error& e) {
      expect(v < cni::kV030 && e.code() == cni::kIncompatibleVersion && r.ips.empty(), "result_to_string failed",
             text + ": " + e.what());
      continue;
    }
    const cni::json j = cni::json::parse(printed, nullptr, false);
    expect(!j.is_discarded() && j.is_object(), "printed result is not a JSON object", printed);
    expect(j.value("cniVersion", "") == text, "printed result has the wrong cniVersion", printed);
    cni::Result back;
    try {
      // Parsed with a different caller version on purpose: the result's own cniVersion must win.
      back = cni::result_from_json(j, cni::kV040);
    } catch (const Error& e) {
      violated("printed result does not parse back", text + ": " + e.what() + " in " + printed);
    }
    expect(back == projection(r, v), "round trip changed the result", text + ": " + printed);
  }
}

}  // namespace tether::fuzz
