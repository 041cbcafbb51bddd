#pragma once
// Staging helpers: each edits one open TableTxn (nat table of one family) and never commits.
// All are deterministic in the txn's snapshot so a whole transaction can be re-run on EAGAIN.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/firewall/naming.hpp"
#include "lib/fw_iptables/nat_rules.hpp"
#include "lib/iptables/table_txn.hpp"

namespace tether::firewall {

using TagFilter = std::function<bool(const CommentTag&)>;

struct Removed {
  std::size_t rules = 0;
  std::vector<std::uint16_t> udp_host_ports;  // of removed DNAT rules (for conntrack cleanup)
};

// True when TETHER-HOSTPORTS or TETHER-POSTROUTING exists.
bool has_tether_chains(const iptables::TableTxn& txn);
// True when some per-attachment rule's tag passes `filter`.
bool has_attachment_rules(const iptables::TableTxn& txn, const TagFilter& filter);
// Deletes every per-attachment rule whose tag passes `filter`.
Removed remove_attachment_rules(iptables::TableTxn& txn, const TagFilter& filter);
// Creates the shared chains `fr` needs, their jumps, shared rules and `fr.network_rules`, if missing.
void ensure_skeleton(iptables::TableTxn& txn, const FamilyRules& fr);
// Removes per-network rules of networks without attachment rules in TETHER-HOSTPORTS, then each
// shared chain (and its jumps) once no per-attachment rule is left in it.
void remove_unused_skeleton(iptables::TableTxn& txn);

}  // namespace tether::firewall
