// libiptc (legacy x_tables) backend of tether::firewall::Firewall, IPv4 (libip4tc) and IPv6
// (libip6tc). All rules live in the nat table of the netns current at the call (the host's):
//
//   PREROUTING ─┐ -m addrtype --dst-type LOCAL                 (jumps inserted first, shared,
//   OUTPUT ─────┴──────────────> TETHER-HOSTPORTS               comment "tether:shared hostports")
//                                 │ -s <subnet> -j MARK --set-xmark 0x2000/0x2000
//                                 │                            per network: hairpin (first)
//                                 │ [-d <hostIP>] -p <proto> --dport <hostPort>
//                                 │     -j DNAT --to-destination <ctrIP>:<ctrPort>   one per mapping
//                                 └ (falls through: not ours)
//
//   POSTROUTING ───────────────> TETHER-POSTROUTING            (jump inserted first, shared)
//                                 │ -s 127.0.0.0/8 ! -o lo -j MASQUERADE   shared, v4: DNAT'ed localhost
//                                 │ ! -o lo -m mark --mark 0x2000/0x2000 -j MASQUERADE
//                                 │                                        shared: hairpin
//                                 │ -d 224.0.0.0/4 -j RETURN               shared: never multicast
//                                 │                                        (v6: ff00::/8)
//                                 │ -s <ctrIP> ! -d <subnet> -j MASQUERADE per attachment: ipMasq
//                                 │                                        without port mappings
//                                 │ -s <subnet> ! -d <subnet> -j MASQUERADE
//                                 │                                        per network: ipMasq of
//                                 │                                        attachments with mappings
//                                 └ (falls through)
//
// Every per-attachment rule carries the comment "tether:<net-hash>:<att-hash> net=.. id=.. if=.."
// (naming.hpp), which is how DEL finds an attachment's rules (no IPs, no netns needed) and how GC
// recovers (network, attachment) identity. Per-network rules ("tether:<net-hash>:network": the
// hairpin mark, and the masquerade of attachments whose DNAT rules already identify them) live
// while their network has a DNAT rule. The shared chains are created on the first ADD that
// needs them and removed (with their jumps) when the last per-attachment rule goes.
//
// Why shared chains with tagged rules and not a chain per attachment: libiptc copies the whole
// table into the kernel and back on every commit, so ADD cost grows with table bytes. A chain
// costs a 176 B head + 152 B tail + a 440 B jump; a tagged rule costs 440-528 B. One container
// with ipMasq + one mapping is 2 rules here (~1 KB) against ~5 KB as per-attachment chains; at
// 1,000 such containers a commit moves ~1 MB instead of ~5 MB.
//
// Concurrency: the xtables lock is held from iptc_init to the last iptc_commit of a call (one
// commit per table); EAGAIN (a lock-ignoring writer) re-runs the whole transaction, bounded.
// Cost when idle: ADD of an empty plan never touches netfilter; DEL/GC first read
// /proc/net/ip{,6}_tables_names (no nat table -> done, and no table gets created) and, when the
// lock is busy, decide from a lock-free snapshot whether there is anything to remove at all.
#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "lib/firewall/naming.hpp"
#include "lib/firewall/udp_flows.hpp"
#include "lib/fw_iptables/forward_staging.hpp"
#include "lib/fw_iptables/iptables_firewall.hpp"
#include "lib/fw_iptables/nat_rules.hpp"
#include "lib/fw_iptables/nat_staging.hpp"
#include "lib/iptables/table_names.hpp"
#include "lib/iptables/table_txn.hpp"
#include "lib/iptables/xtables_lock.hpp"
#include "lib/log/log.hpp"
#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "lib/util/undo_stack.hpp"

namespace tether::firewall {
namespace {

using iptables::TableTxn;
using iptables::XtablesLock;

constexpr const char* kTable = "nat";
constexpr int kMaxAttempts = 3;
const net::Family kFamilies[] = {net::Family::V4, net::Family::V6};

const char* family_name(net::Family f) { return f == net::Family::V4 ? "v4" : "v6"; }

// Runs init -> stage -> commit, re-running everything on EAGAIN. `stage` must derive all its
// changes from the txn's snapshot (it is called again on a fresh one).
template <class Stage>
void run_txn(net::Family family, Stage&& stage, const char* table = kTable) {
  for (int attempt = 1;; ++attempt) {
    TableTxn txn(family, table);
    stage(txn);
    try {
      txn.commit();
      return;
    } catch (const Error& e) {
      if (e.code() != kTryAgainLater || attempt >= kMaxAttempts) throw;
      log::debug(std::string("nat: commit raced with a lock-less writer, retrying: ") + e.what());
    }
  }
}

class IptablesFirewall final : public Firewall {
 public:
  void add(const NatPlan& plan) override;
  void del(const AttachmentKey& key) override;
  void check(const NatPlan& plan) override;
  void gc(const std::string& network, const std::vector<AttachmentKey>& valid) override;
  void ensure_forward(const ForwardPlan& plan) override;
  void remove_forward(const std::string& network) override;
  void check_forward(const ForwardPlan& plan) override;

 private:
  void note_nft() {
    if (nft_noted_) return;
    nft_noted_ = true;
    // The check resolves the iptables symlink chain (~10 syscalls): only when the note is printed.
    if (log::level() <= log::Level::Info && iptables::host_iptables_is_nft())
      log::info("nat: host iptables is the nf_tables variant; tether's rules are legacy x_tables, "
                "list them with iptables-legacy-save / ip6tables-legacy-save");
  }
  // Removes the per-attachment rules passing `filter` in every family. Lock-light: see header.
  void remove_where(const TagFilter& filter);
  bool nft_noted_ = false;
};

void IptablesFirewall::add(const NatPlan& plan) {
  if (plan.empty()) return;  // idle cost: an ADD without NAT work never touches netfilter
  const std::vector<FamilyRules> families = nat_rules(plan);  // validate before any lock or syscall
  if (families.empty()) return;
  note_nft();

  const std::string hash = attachment_hash(plan.key);
  const TagFilter mine = [&](const CommentTag& t) { return t.attachment_hash == hash; };
  {
    XtablesLock lock = XtablesLock::acquire();
    util::UndoStack undo;  // declared after the lock: a rollback runs while the lock is still held
    for (const auto& fr : families) {
      run_txn(fr.family, [&](TableTxn& txn) {
        // ADD replaces an earlier ADD of the same key.
        const bool replaced = remove_attachment_rules(txn, mine).rules > 0;
        ensure_skeleton(txn, fr);
        for (const auto& r : fr.rules) {
          txn.append(r.chain, iptables::build_entry(r.spec));
          if (log::level() <= log::Level::Debug) log::debug("nat: " + iptables::to_save_line(r.chain, r.spec));
        }
        if (replaced) remove_unused_skeleton(txn);  // the old rules may have used a chain the new ones don't
      });
      undo.push(std::string("remove nat rules (") + family_name(fr.family) + ")", [&, family = fr.family] {
        run_txn(family, [&](TableTxn& txn) {
          remove_attachment_rules(txn, mine);
          remove_unused_skeleton(txn);
        });
      });
    }
    undo.commit();
  }
  for (const auto& fr : families) forget_udp_flows(fr.family, fr.udp_host_ports);
}

void IptablesFirewall::remove_where(const TagFilter& filter) {
  std::vector<net::Family> present;
  for (auto f : kFamilies)
    if (iptables::table_exists(f, kTable)) present.push_back(f);  // else: nothing of ours, and no init
  if (present.empty()) return;

  std::optional<XtablesLock> lock = XtablesLock::try_acquire();
  if (!lock) {
    // Busy lock: don't queue behind other writers just to find nothing. A lock-free snapshot is
    // consistent (libiptc re-reads if the table changes mid-copy), and only a call for this same
    // attachment could be adding its rules right now, which the runtime never does concurrently.
    bool anything = false;
    for (auto f : present) {
      TableTxn probe(f, kTable);
      anything = anything || (has_tether_chains(probe) && has_attachment_rules(probe, filter));
    }
    if (!anything) return;
    lock = XtablesLock::acquire();
  }
  util::ErrorList errors;
  std::vector<std::pair<net::Family, std::vector<std::uint16_t>>> udp;
  for (auto f : present) {
    errors.run(std::string("remove nat rules (") + family_name(f) + ")", [&] {
      Removed removed;
      run_txn(f, [&](TableTxn& txn) {
        removed = {};
        if (!has_tether_chains(txn)) return;
        note_nft();
        removed = remove_attachment_rules(txn, filter);
        if (removed.rules > 0) remove_unused_skeleton(txn);
        log::debug("nat: removing " + std::to_string(removed.rules) + " rules (" + family_name(f) + ")");
      });
      udp.emplace_back(f, removed.udp_host_ports);
    });
  }
  lock.reset();
  for (const auto& [f, ports] : udp) forget_udp_flows(f, ports);
  errors.throw_if_any();
}

void IptablesFirewall::del(const AttachmentKey& key) {
  const std::string hash = attachment_hash(key);
  remove_where([&](const CommentTag& t) { return t.attachment_hash == hash; });
}

void IptablesFirewall::gc(const std::string& network, const std::vector<AttachmentKey>& valid) {
  const std::string net_hash = network_hash(network);
  std::set<std::string, std::less<>> keep;  // transparent: looked up with string_view tags
  for (const auto& k : valid) keep.insert(attachment_hash({network, k.container_id, k.ifname}));
  remove_where([&](const CommentTag& t) { return t.network_hash == net_hash && keep.count(t.attachment_hash) == 0; });
}

void IptablesFirewall::check(const NatPlan& plan) {
  if (plan.empty()) return;
  const std::vector<FamilyRules> families = nat_rules(plan);
  std::vector<std::string> missing;
  for (const auto& fr : families) {
    if (!iptables::table_exists(fr.family, kTable)) {
      missing.push_back(std::string("nat table (") + family_name(fr.family) + ")");
      continue;
    }
    TableTxn snapshot(fr.family, kTable);  // read-only: no lock needed
    auto want = [&](const std::string& chain, const iptables::RuleSpec& spec) {
      if (!snapshot.contains(chain, iptables::build_entry(spec)))
        missing.push_back(iptables::to_save_line(chain, spec));
    };
    if (fr.hostports)
      for (const auto& j : hostports_jumps(fr.family)) want(j.from, j.spec);
    for (const auto& r : fr.network_rules) want(r.chain, r.spec);
    if (fr.postrouting) {
      const auto j = postrouting_jump(fr.family);
      want(j.from, j.spec);
      for (const auto& s : postrouting_shared_rules(fr.family)) want(kPostroutingChain, s);
    }
    for (const auto& r : fr.rules) {
      // A CHECK without the runtime's portMappings expects the attachment's own masquerade; the
      // ADD (with them) made it the network's.
      if (r.chain == kPostroutingChain && r.spec.dst && !snapshot.contains(r.chain, iptables::build_entry(r.spec))) {
        const auto net = network_masquerade(plan.key.network, r.spec.dst->prefix);
        if (snapshot.contains(net.chain, iptables::build_entry(net.spec))) continue;
      }
      want(r.chain, r.spec);
    }
  }
  if (missing.empty()) return;
  std::string msg = "nat rules missing for network '" + plan.key.network + "' container '" + plan.key.container_id +
                    "' ifname '" + plan.key.ifname + "':";
  for (const auto& m : missing) msg += " [" + m + "]";
  throw Error(msg, kInternal);
}

// FORWARD accepts go into the legacy filter table only where it exists: without it, nothing in
// legacy x_tables drops forwarded traffic (and looking must not create it). A lock-free snapshot
// decides whether anything is to be done, so an ADD on a host already set up takes no lock.
constexpr const char* kFilter = "filter";

void IptablesFirewall::ensure_forward(const ForwardPlan& plan) {
  for (auto f : kFamilies) {
    if (!iptables::table_exists(f, kFilter) || forward_rules(plan, f).empty()) continue;
    if (missing_forward_rules(TableTxn(f, kFilter), plan, f).empty()) continue;
    XtablesLock lock = XtablesLock::acquire();
    run_txn(
        f, [&](TableTxn& txn) { ensure_forward_rules(txn, plan, f); }, kFilter);
  }
}

void IptablesFirewall::remove_forward(const std::string& network) {
  for (auto f : kFamilies) {
    if (!iptables::table_exists(f, kFilter) || !TableTxn(f, kFilter).is_chain(kForwardChain)) continue;
    XtablesLock lock = XtablesLock::acquire();
    run_txn(
        f, [&](TableTxn& txn) { remove_forward_rules(txn, network); }, kFilter);
  }
}

void IptablesFirewall::check_forward(const ForwardPlan& plan) {
  std::vector<std::string> missing;
  for (auto f : kFamilies) {
    if (!iptables::table_exists(f, kFilter)) continue;
    for (auto& m : missing_forward_rules(TableTxn(f, kFilter), plan, f)) missing.push_back(std::move(m));
  }
  if (missing.empty()) return;
  std::string msg = "forward rules missing for network '" + plan.network + "':";
  for (const auto& m : missing) msg += " [" + m + "]";
  throw Error(msg, kInternal);
}

}  // namespace

std::unique_ptr<Firewall> make_iptables_firewall() { return std::make_unique<IptablesFirewall>(); }

bool legacy_nat_in_use() {
  for (auto f : kFamilies)
    if (iptables::table_exists(f, kTable)) return true;
  return false;
}

}  // namespace tether::firewall
