#include "lib/fw_nftables/forward_sync.hpp"

#include <algorithm>

#include "lib/firewall/naming.hpp"
#include "lib/log/log.hpp"

namespace tether::firewall::nft {
namespace {

std::string where(Family f, const char* table) { return std::string(nftables::family_name(f)) + " " + table; }

bool is_jump_to_ours(const nftables::RuleInfo& r) {
  return r.verdict &&
         (r.verdict->kind == nftables::Verdict::Kind::Jump || r.verdict->kind == nftables::Verdict::Kind::Goto) &&
         r.verdict->chain == kXtForwardChain;
}

bool has_rule(const std::vector<nftables::RuleInfo>& have, const nftables::Rule& want) {
  return std::any_of(have.begin(), have.end(), [&](const nftables::RuleInfo& h) {
    return h.statements && *h.statements == want.statements && (want.comment.empty() || h.comment == want.comment);
  });
}

bool is_network_rule(const nftables::RuleInfo& r, std::string_view net_hash) {
  const auto tag = parse_forward_rule_comment(r.comment);
  return tag && *tag == net_hash;
}

}  // namespace

XtForwardState read_xt_forward(nftables::Socket& sock, Family f, const nftables::TableNames* tables) {
  XtForwardState s;
  s.family = f;
  if (tables ? !tables->has(f, kFilterTable) : !nftables::get_table(sock, f, kFilterTable)) return s;
  s.table = true;
  const auto forward = nftables::get_chain(sock, f, kFilterTable, kFilterForward);
  s.forward_base = forward && forward->base && forward->base->hook == nftables::Hook::Forward;
  s.docker_user = nftables::get_chain(sock, f, kFilterTable, kDockerUser).has_value();
  s.chain = nftables::get_chain(sock, f, kFilterTable, kXtForwardChain);
  if (s.chain) s.rules = nftables::list_rules(sock, f, kFilterTable, kXtForwardChain);
  for (const char* from : {kFilterForward, kDockerUser}) {
    if (from == kDockerUser && !s.docker_user) continue;
    if (from == kFilterForward && !forward) continue;
    for (auto& r : nftables::list_rules(sock, f, kFilterTable, from))
      if (is_jump_to_ours(r)) s.jumps.push_back({from, std::move(r)});
  }
  return s;
}

void ForwardWrite::append_to(nftables::Batch& b) const {
  if (chain) b.add_chain(*chain);
  if (jump) b.insert_rule(*jump);
  for (const auto& r : rules) b.add_rule(r);
}

std::vector<std::string> ForwardWrite::describe() const {
  std::vector<std::string> out;
  auto where_rule = [](const nftables::Rule& r) {
    return std::string(nftables::family_name(r.family)) + " " + r.table;
  };
  if (chain)
    out.push_back("chain " + std::string(nftables::family_name(chain->family)) + " " + chain->table + " " +
                  chain->name);
  if (jump)
    out.push_back("jump to " + std::string(kXtForwardChain) + " in " + where_rule(*jump) + " " + jump->chain + ": " +
                  xt_rule_text(*jump));
  for (const auto& r : rules)
    out.push_back("rule in " + where_rule(r) + " " + r.chain + ": " +
                  (r.xt_compat ? xt_rule_text(r) : nftables::to_string(r.statements, r.family == Family::Ip6)));
  return out;
}

ForwardWrite xt_forward_missing(const XtForwardState& s, const ForwardPlan& plan) {
  ForwardWrite w;
  const auto rules = xt_forward_rules(plan, s.family);
  if (!s.forward_base || rules.empty()) return w;
  if (!s.chain) w.chain = xt_forward_chain(s.family);
  // Ours is the exact rule (comment included); a jump of another shape is someone else's.
  const bool jump_there = std::any_of(s.jumps.begin(), s.jumps.end(), [&](const RuleAt& j) {
    return j.rule.statements && *j.rule.statements == xt_forward_jump(s.family, j.chain).statements;
  });
  if (!jump_there) w.jump = xt_forward_jump(s.family, s.docker_user ? kDockerUser : kFilterForward);
  for (const auto& r : rules)
    if (!has_rule(s.rules, r)) w.rules.push_back(r);
  return w;
}

std::size_t append_xt_forward_removal(nftables::Batch& b, const XtForwardState& s, std::string_view net_hash) {
  if (!s.chain) return 0;
  const std::size_t before = b.size();
  bool others = false;
  for (const auto& r : s.rules) {
    if (is_network_rule(r, net_hash))
      b.del_rule(s.family, kFilterTable, kXtForwardChain, r.handle);
    else
      others = true;
  }
  if (others) return b.size() - before;
  for (const auto& j : s.jumps) b.del_rule(s.family, kFilterTable, j.chain, j.rule.handle);
  // The kernel counts a chain's rules and the jumps to it in its use; a reference left after
  // ours go is a rule we do not see (a verdict map element, ...): deleting would fail (EBUSY).
  const std::size_t references = s.chain->use >= s.rules.size() ? s.chain->use - s.rules.size() : 0;
  if (references <= s.jumps.size())
    b.del_chain(s.family, kFilterTable, kXtForwardChain);
  else
    log::warn("forward: chain " + where(s.family, kFilterTable) + " " + kXtForwardChain +
              " still referenced by a foreign rule; left empty");
  return b.size() - before;
}

}  // namespace tether::firewall::nft
