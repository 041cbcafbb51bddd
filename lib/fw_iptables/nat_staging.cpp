#include "lib/fw_iptables/nat_staging.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include "lib/iptables/rule_spec.hpp"
#include "lib/log/log.hpp"

namespace tether::firewall {
namespace {

using iptables::TableTxn;

const char* const kOurChains[] = {kHostportsChain, kPostroutingChain};

bool is_attachment_rule(const TableTxn::RuleRef& r, const TagFilter& filter) {
  if (!r.parsed.comment) return false;
  auto tag = parse_attachment_comment(*r.parsed.comment);
  return tag && filter(*tag);
}

void ensure_jump(TableTxn& txn, const Jump& jump) {
  const auto entry = iptables::build_entry(jump.spec);
  if (txn.contains(jump.from, entry)) return;
  txn.insert(jump.from, entry, 0);  // first, like portmap: our DNAT must win over later catch-alls
  log::debug("nat: insert " + iptables::to_save_line(jump.from, jump.spec));
}

// Deletes the rules of built-in `from` that jump to `chain` (highest position first: positions
// of earlier rules stay valid).
void remove_jumps(TableTxn& txn, const std::string& from, const std::string& chain) {
  std::vector<unsigned> doomed;
  txn.for_each_rule(from, [&](const TableTxn::RuleRef& r) {
    if (chain == r.target) doomed.push_back(r.position);
  });
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) txn.delete_num(from, *it);
}

bool any_attachment_rule(const TableTxn& txn, const char* chain, const TagFilter& filter) {
  bool found = false;
  txn.for_each_rule(chain, [&](const TableTxn::RuleRef& r) { found = found || is_attachment_rule(r, filter); });
  return found;
}

bool any_network_rule(const TableTxn& txn, const char* chain) {
  bool found = false;
  txn.for_each_rule(chain, [&](const TableTxn::RuleRef& r) {
    found = found || (r.parsed.comment && parse_network_rule_comment(*r.parsed.comment));
  });
  return found;
}

// Per-network rules (hairpin marks, the network's masquerade) live as long as their network has a
// DNAT rule in TETHER-HOSTPORTS.
void remove_orphan_network_rules(TableTxn& txn) {
  std::set<std::string, std::less<>> live;
  txn.for_each_rule(kHostportsChain, [&](const TableTxn::RuleRef& r) {
    if (!r.parsed.comment) return;
    if (auto tag = parse_attachment_comment(*r.parsed.comment)) live.emplace(tag->network_hash);
  });
  for (const char* chain : kOurChains) {
    std::vector<unsigned> doomed;
    txn.for_each_rule(chain, [&](const TableTxn::RuleRef& r) {
      if (!r.parsed.comment) return;
      auto net = parse_network_rule_comment(*r.parsed.comment);
      if (net && live.count(*net) == 0) doomed.push_back(r.position);
    });
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) txn.delete_num(chain, *it);
  }
}

}  // namespace

bool has_tether_chains(const TableTxn& txn) { return txn.is_chain(kHostportsChain) || txn.is_chain(kPostroutingChain); }

bool has_attachment_rules(const TableTxn& txn, const TagFilter& filter) {
  for (const char* chain : kOurChains)
    if (any_attachment_rule(txn, chain, filter)) return true;
  return false;
}

Removed remove_attachment_rules(TableTxn& txn, const TagFilter& filter) {
  Removed out;
  for (const char* chain : kOurChains) {
    std::vector<unsigned> doomed;  // collect first: never delete while iterating
    txn.for_each_rule(chain, [&](const TableTxn::RuleRef& r) {
      if (!is_attachment_rule(r, filter)) return;
      if (r.parsed.proto == static_cast<std::uint16_t>(iptables::Proto::Udp) && r.parsed.dport)
        out.udp_host_ports.push_back(*r.parsed.dport);
      doomed.push_back(r.position);
    });
    for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) txn.delete_num(chain, *it);
    out.rules += doomed.size();
  }
  std::sort(out.udp_host_ports.begin(), out.udp_host_ports.end());
  out.udp_host_ports.erase(std::unique(out.udp_host_ports.begin(), out.udp_host_ports.end()), out.udp_host_ports.end());
  return out;
}

void ensure_skeleton(TableTxn& txn, const FamilyRules& fr) {
  if (fr.hostports) {
    if (!txn.is_chain(kHostportsChain)) txn.create_chain(kHostportsChain);
    for (const auto& j : hostports_jumps(fr.family)) ensure_jump(txn, j);
  }
  if (fr.postrouting) {
    if (!txn.is_chain(kPostroutingChain)) txn.create_chain(kPostroutingChain);
    const auto shared = postrouting_shared_rules(fr.family);
    for (unsigned i = 0; i < shared.size(); ++i) {
      const auto entry = iptables::build_entry(shared[i]);
      if (!txn.contains(kPostroutingChain, entry)) txn.insert(kPostroutingChain, entry, i);
    }
    ensure_jump(txn, postrouting_jump(fr.family));
  }
  for (const auto& r : fr.network_rules) {
    const auto entry = iptables::build_entry(r.spec);
    if (txn.contains(r.chain, entry)) continue;
    if (r.chain == kHostportsChain)
      txn.insert(r.chain, entry, 0);  // marks must precede the DNATs
    else
      txn.append(r.chain, entry);  // masquerade after the shared multicast RETURN
  }
}

void remove_unused_skeleton(TableTxn& txn) {
  remove_orphan_network_rules(txn);
  const TagFilter any = [](const CommentTag&) { return true; };
  struct Shared {
    const char* chain;
    std::vector<std::string> from;
  };
  for (const auto& s :
       {Shared{kHostportsChain, {"PREROUTING", "OUTPUT"}}, Shared{kPostroutingChain, {"POSTROUTING"}}}) {
    if (!txn.is_chain(s.chain) || any_attachment_rule(txn, s.chain, any) || any_network_rule(txn, s.chain)) continue;
    for (const auto& from : s.from) remove_jumps(txn, from, s.chain);
    txn.flush_chain(s.chain);
    if (txn.references(s.chain) == 0) {
      txn.delete_chain(s.chain);
    } else {
      log::warn(std::string("nat: chain ") + s.chain + " still referenced by a foreign rule; left empty");
    }
  }
}

}  // namespace tether::firewall
