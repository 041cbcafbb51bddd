#include "lib/fw_nftables/nft_check.hpp"

#include <algorithm>

#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/udata.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall::nft {
namespace {

std::string where(Family f) { return std::string(nftables::family_name(f)) + " " + kTable; }

// Every expected rule of `chain` must be there (same statements, same comment).
void check_rules(nftables::Socket& sock, Family f, const std::string& chain, const std::vector<nftables::Rule>& expected,
                 std::vector<std::string>& missing) {
  const auto have = nftables::list_rules(sock, f, kTable, chain);
  for (const auto& r : expected) {
    if (r.chain != chain) continue;
    const std::string comment = nftables::clamp_comment(r.comment);
    const bool found = std::any_of(have.begin(), have.end(), [&](const nftables::RuleInfo& h) {
      return h.statements && *h.statements == r.statements && h.comment == comment;
    });
    if (!found) missing.push_back("rule in " + where(f) + " " + chain + ": " + nftables::to_string(r.statements, f == Family::Ip6));
  }
}

}  // namespace

void check_attachment(nftables::Socket& sock, const AttachmentKey& key, const std::vector<AttachmentObjects>& objects) {
  std::vector<std::string> missing;
  for (const auto& o : objects) {
    const Family f = o.family;
    if (!nftables::get_table(sock, f, kTable)) {
      missing.push_back("table " + where(f));
      continue;
    }
    const Skeleton sk = skeleton(f);
    for (const auto& m : sk.maps)
      if (!nftables::has_set(sock, f, kTable, m.name)) missing.push_back("map " + where(f) + " " + m.name);
    for (const auto& c : sk.base_chains) check_rules(sock, f, c.name, sk.rules, missing);
    for (const auto& c : o.chains) {
      if (!nftables::get_chain(sock, f, kTable, c.name)) {
        missing.push_back("chain " + where(f) + " " + c.name);
        continue;
      }
      check_rules(sock, f, c.name, o.rules, missing);
    }
    for (const auto& e : o.elements) {
      const auto found = nftables::get_element(sock, f, kTable, e.set, e.key);
      if (!found || found->verdict != e.verdict)
        missing.push_back("element { " + e.label + " : goto " + e.verdict->chain + " } in map " + where(f) + " " + e.set +
                          (found ? " (it points elsewhere)" : ""));
    }
  }
  if (missing.empty()) return;
  std::string msg = "nftables objects missing for network '" + key.network + "' container '" + key.container_id +
                    "' ifname '" + key.ifname + "':";
  for (const auto& m : missing) msg += " [" + m + "]";
  throw Error(msg, kInternal);
}

}  // namespace tether::firewall::nft
