#include "lib/fw_iptables/forward_staging.hpp"

#include "lib/firewall/naming.hpp"
#include "lib/log/log.hpp"

namespace tether::firewall {
namespace {

using iptables::AddrMatch;
using iptables::CtStateMatch;
using iptables::RuleSpec;
using iptables::TableTxn;

constexpr const char* kDockerUser = "DOCKER-USER";

RuleSpec jump_spec(net::Family family) {
  RuleSpec s;
  s.family = family;
  s.comment = shared_comment("forward");
  s.target = iptables::Verdict{kForwardChain};
  return s;
}

// Where the jump belongs: Docker's user chain when it exists, else FORWARD itself.
const char* jump_home(const TableTxn& txn) { return txn.is_chain(kDockerUser) ? kDockerUser : "FORWARD"; }

bool jump_present(const TableTxn& txn, net::Family family) {
  const auto entry = iptables::build_entry(jump_spec(family));
  return txn.contains("FORWARD", entry) || (txn.is_chain(kDockerUser) && txn.contains(kDockerUser, entry));
}

}  // namespace

std::vector<RuleSpec> forward_rules(const ForwardPlan& plan, net::Family family) {
  std::vector<RuleSpec> out;
  const std::string comment = forward_rule_comment(plan.network);
  for (const auto& subnet : plan.subnets) {
    if (subnet.family() != family) continue;
    RuleSpec replies;
    replies.family = family;
    replies.dst = AddrMatch{subnet.network()};
    replies.ct = CtStateMatch{CtStateMatch::kRelated | CtStateMatch::kEstablished};
    replies.comment = comment;
    replies.target = iptables::Verdict{"ACCEPT"};
    RuleSpec published = replies;
    published.ct = CtStateMatch{CtStateMatch::kDnat};
    RuleSpec outgoing;
    outgoing.family = family;
    outgoing.src = AddrMatch{subnet.network()};
    outgoing.comment = comment;
    outgoing.target = iptables::Verdict{"ACCEPT"};
    out.insert(out.end(), {replies, published, outgoing});
  }
  return out;
}

void ensure_forward_rules(TableTxn& txn, const ForwardPlan& plan, net::Family family) {
  const auto rules = forward_rules(plan, family);
  if (rules.empty()) return;
  if (!txn.is_chain(kForwardChain)) txn.create_chain(kForwardChain);
  if (!jump_present(txn, family)) {
    txn.insert(jump_home(txn), iptables::build_entry(jump_spec(family)), 0);
    log::debug(std::string("forward: jump to ") + kForwardChain + " first in " + jump_home(txn));
  }
  for (const auto& r : rules) {
    const auto entry = iptables::build_entry(r);
    if (!txn.contains(kForwardChain, entry)) txn.append(kForwardChain, entry);
  }
}

std::size_t remove_forward_rules(TableTxn& txn, const std::string& network) {
  if (!txn.is_chain(kForwardChain)) return 0;
  const std::string hash = network_hash(network);
  std::vector<unsigned> doomed;
  bool others = false;
  txn.for_each_rule(kForwardChain, [&](const TableTxn::RuleRef& r) {
    const auto tag = r.parsed.comment ? parse_forward_rule_comment(*r.parsed.comment) : std::nullopt;
    if (tag && *tag == hash)
      doomed.push_back(r.position);
    else
      others = true;
  });
  for (auto it = doomed.rbegin(); it != doomed.rend(); ++it) txn.delete_num(kForwardChain, *it);
  if (others) return doomed.size();
  for (const char* from : {"FORWARD", kDockerUser}) {
    std::vector<unsigned> jumps;
    txn.for_each_rule(from, [&](const TableTxn::RuleRef& r) {
      if (std::string_view(r.target) == kForwardChain) jumps.push_back(r.position);
    });
    for (auto it = jumps.rbegin(); it != jumps.rend(); ++it) txn.delete_num(from, *it);
  }
  if (txn.references(kForwardChain) == 0)
    txn.delete_chain(kForwardChain);
  else
    log::warn(std::string("forward: chain ") + kForwardChain + " still referenced by a foreign rule; left empty");
  return doomed.size();
}

std::vector<std::string> missing_forward_rules(const TableTxn& txn, const ForwardPlan& plan, net::Family family) {
  std::vector<std::string> missing;
  const auto rules = forward_rules(plan, family);
  if (rules.empty()) return missing;
  if (!jump_present(txn, family)) missing.push_back(iptables::to_save_line("FORWARD", jump_spec(family)));
  for (const auto& r : rules)
    if (!txn.is_chain(kForwardChain) || !txn.contains(kForwardChain, iptables::build_entry(r)))
      missing.push_back(iptables::to_save_line(kForwardChain, r));
  return missing;
}

}  // namespace tether::firewall
