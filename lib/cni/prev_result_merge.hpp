#pragma once
// Chaining (spec §ADD, §Chained plugins): a plugin that gets a prevResult on ADD must pass it on or
// modify it, never drop it. A plugin's own result is therefore appended to the prevResult.
#include "lib/cni/types.hpp"

namespace tether::cni {

// `prev` with `own` appended, nothing of `prev` removed or reordered:
//   interfaces: prev's, then own's;
//   ips:        prev's (indexes unchanged), then own's with `interface` shifted past prev's interfaces;
//   routes:     prev's, then own's;
//   dns:        field by field (nameservers, domain, search, options), own's non-empty value
//               replaces prev's and the fields own leaves empty keep prev's: the container has one
//               resolv.conf, and a plugin's `dns` config states what it wants for the fields it sets.
Result merge_into_prev_result(const Result& prev, const Result& own);

}  // namespace tether::cni
