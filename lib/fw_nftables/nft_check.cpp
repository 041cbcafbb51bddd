#include "lib/fw_nftables/nft_check.hpp"

#include <algorithm>

#include "lib/firewall/naming.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/udata.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall::nft {
namespace {

std::string where(Family f) { return std::string(nftables::family_name(f)) + " " + kTable; }

// Every expected rule of `chain` must be there (same statements).
void check_rules(nftables::Socket& sock, Family f, const std::string& chain,
                 const std::vector<nftables::Rule>& expected, std::vector<std::string>& missing) {
  const auto have = nftables::list_rules(sock, f, kTable, chain);
  for (const auto& r : expected) {
    if (r.chain != chain) continue;
    const bool found = std::any_of(have.begin(), have.end(), [&](const nftables::RuleInfo& h) {
      return h.statements && *h.statements == r.statements;
    });
    if (!found)
      missing.push_back("rule in " + where(f) + " " + chain + ": " +
                        nftables::to_string(r.statements, f == Family::Ip6));
  }
}

// A network element may carry any network's comment (two networks with one subnet share it).
void check_element(nftables::Socket& sock, const nftables::Element& e, std::vector<std::string>& missing) {
  const std::string what = "element { " + e.label + " } in " + where(e.family) + " @" + e.set;
  // In an interval set this finds the element whose range holds e.key: compare both ends.
  const auto found = nftables::get_element(sock, e);
  if (!found) return missing.push_back(what);
  if (found->key != e.key || found->key_end != e.key_end) return missing.push_back(what + " (another range is there)");
  if (found->data != e.data) return missing.push_back(what + " (it maps elsewhere)");
  const bool shared = parse_network_rule_comment(e.comment) && parse_network_rule_comment(found->comment);
  if (!shared && found->comment != nftables::clamp_comment(e.comment)) {
    const auto tag = parse_attachment_comment(found->comment);
    missing.push_back(what + " (it belongs to " + (tag ? std::string(tag->readable) : "'" + found->comment + "'") +
                      ")");
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
    for (const auto& s : sk.sets)
      if (!nftables::has_set(sock, f, kTable, s.name)) missing.push_back("set " + where(f) + " " + s.name);
    for (const auto& c : sk.base_chains) check_rules(sock, f, c.name, sk.rules, missing);
    for (const auto& e : o.elements) check_element(sock, e, missing);
    for (const auto& e : o.network_elements) check_element(sock, e, missing);
  }
  if (missing.empty()) return;
  std::string msg = "nftables objects missing for network '" + key.network + "' container '" + key.container_id +
                    "' ifname '" + key.ifname + "':";
  for (const auto& m : missing) msg += " [" + m + "]";
  throw Error(msg, kInternal);
}

}  // namespace tether::firewall::nft
