#pragma once
// Result <-> JSON in every spec version.
//   1.1.0: everything.  1.0.0: drops interface mtu/socketPath/pciID and route mtu/advmss/priority/
//   table/scope.  0.3.0/0.3.1/0.4.0: like 1.0.0, interfaces keep name/mac/sandbox, each ip gets
//   "version": "4"|"6".  0.1.0/0.2.0: {ip4:{ip,gateway,routes}, ip6:{...}, dns}, first IP per family
//   only, routes split by family; a result with no IP cannot be expressed there (code 1).
#include <string>

#include "lib/cni/types.hpp"

namespace tether::cni {

json result_to_json(const Result& r, const Version& v);  // includes "cniVersion"
// Throws what result_to_json would (code 1) when `r` cannot be expressed in version `v`: an ADD
// checks this before it commits, so such a failure still rolls back.
void ensure_expressible(const Result& r, const Version& v);
std::string result_to_string(const Result& r, const Version& v);
// Parses a result/prevResult of version `v` (taken from its own cniVersion when present, else the
// caller's) and converts it up. Throws code 7 naming "prevResult.<field>" on bad shape.
Result result_from_json(const json& j, const Version& v);
// Same, naming `root_key` in errors instead of "prevResult" (e.g. "result of IPAM plugin 'x'").
Result result_from_json(const json& j, const Version& v, const std::string& root_key);

json dns_to_json(const Dns& d);
Dns dns_from_json(const json& j, const std::string& key_for_errors);

}  // namespace tether::cni
