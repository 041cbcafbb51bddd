#pragma once
// The FORWARD accepts (forward_rules.hpp) against what the kernel holds: one family's read, what
// is missing (for ensure, which writes it, and for CHECK, which names it), and what a network's
// removal deletes. Reads are single GETs and dumps of a few small chains; nothing is created by
// looking. Every write goes into the caller's batch, which commits it generation-guarded (the
// reads are the batch's basis).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/fw_nftables/forward_rules.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/socket.hpp"

namespace tether::firewall::nft {

struct RuleAt {
  std::string chain;
  nftables::RuleInfo rule;
};

// iptables-nft's `<family> filter` as far as the accepts are concerned.
struct XtForwardState {
  Family family = Family::Ip;
  bool table = false;                     // `<family> filter` exists
  bool forward_base = false;              // ... with a base chain FORWARD on the forward hook: where a drop lives
  bool docker_user = false;               // DOCKER-USER exists (the jump's home)
  std::optional<nftables::Chain> chain;   // TETHER-FORWARD
  std::vector<nftables::RuleInfo> rules;  // of TETHER-FORWARD
  std::vector<RuleAt> jumps;              // rules of FORWARD and DOCKER-USER jumping to TETHER-FORWARD
};
// `tables`: the tables that exist, when the caller has listed them (no GET of the filter table).
XtForwardState read_xt_forward(nftables::Socket& sock, Family family, const nftables::TableNames* tables = nullptr);

// What ensure writes and CHECK names.
struct ForwardWrite {
  std::optional<nftables::Chain> chain;  // to create
  std::optional<nftables::Rule> jump;    // to insert first in its chain
  std::vector<nftables::Rule> rules;     // to append
  bool empty() const noexcept { return !chain && !jump && rules.empty(); }
  void append_to(nftables::Batch& batch) const;
  std::vector<std::string> describe() const;
};
// Nothing where the accepts do not belong (no filter table with FORWARD).
ForwardWrite xt_forward_missing(const XtForwardState& state, const ForwardPlan& plan);

// Appends the deletion of the rules of the network whose hash is `net_hash`; TETHER-FORWARD and
// the jumps to it go when nothing else is in it (kept, with a warning, while a rule we cannot
// see references it). Returns the messages added.
std::size_t append_xt_forward_removal(nftables::Batch& batch, const XtForwardState& state, std::string_view net_hash);

}  // namespace tether::firewall::nft
