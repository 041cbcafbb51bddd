#include "lib/fw_nftables/forward_rules.hpp"

#include "lib/firewall/naming.hpp"
#include "lib/nftables/xt_compat.hpp"

namespace tether::firewall::nft {
namespace {

using nftables::Field;
using nftables::Match;
using nftables::Rule;
using nftables::Statement;
using nftables::Verdict;
using nftables::VerdictStatement;

Match address(Field f, const net::IpPrefix& p) { return Match{f, false, p, 0xffffffff}; }
VerdictStatement accept() { return VerdictStatement{Verdict{Verdict::Kind::Accept, {}}}; }

Rule xt_rule(Family f, const std::string& chain, std::vector<Statement> s) {
  Rule r;
  r.family = f;
  r.table = kFilterTable;
  r.chain = chain;
  r.statements = std::move(s);
  r.xt_compat = true;
  return r;
}

}  // namespace

std::vector<net::IpPrefix> forward_subnets(const ForwardPlan& plan, Family f) {
  std::vector<net::IpPrefix> out;
  const net::Family want = f == Family::Ip ? net::Family::V4 : net::Family::V6;
  for (const auto& s : plan.subnets)
    if (f != Family::Bridge && f != Family::Inet && s.family() == want) out.push_back(s.network());
  return out;
}

// The statement order is iptables-nft's: addresses, the matches in command-line order, counter,
// verdict.
std::vector<Rule> xt_forward_rules(const ForwardPlan& plan, Family f) {
  namespace xt = nftables::xt;
  std::vector<Rule> out;
  const Statement comment = xt::comment(forward_rule_comment(plan.network));
  for (const auto& s : forward_subnets(plan, f)) {
    out.push_back(xt_rule(f, kXtForwardChain,
                          {address(Field::DAddr, s), xt::conntrack_state(xt::kCtRelated | xt::kCtEstablished), comment,
                           nftables::Counter{}, accept()}));
    out.push_back(
        xt_rule(f, kXtForwardChain,
                {address(Field::DAddr, s), xt::conntrack_state(xt::kCtDnat), comment, nftables::Counter{}, accept()}));
    out.push_back(xt_rule(f, kXtForwardChain, {address(Field::SAddr, s), comment, nftables::Counter{}, accept()}));
  }
  return out;
}

Rule xt_forward_jump(Family f, const std::string& from) {
  return xt_rule(f, from,
                 {nftables::xt::comment(shared_comment("forward")), nftables::Counter{},
                  VerdictStatement{Verdict{Verdict::Kind::Jump, kXtForwardChain}}});
}

nftables::Chain xt_forward_chain(Family f) {
  // What `iptables-nft -N` sends: a regular chain, nothing but its name.
  nftables::Chain c;
  c.family = f;
  c.table = kFilterTable;
  c.name = kXtForwardChain;
  return c;
}

std::string xt_rule_text(const Rule& r) {
  std::string t = "-A " + r.chain;
  for (const auto& s : r.statements) {
    if (const auto* m = std::get_if<Match>(&s)) {
      if (m->field == Field::SAddr || m->field == Field::DAddr) {
        const auto& p = std::get<net::IpPrefix>(m->value);
        t += std::string(m->negate ? " !" : "") + (m->field == Field::SAddr ? " -s " : " -d ") + p.to_string();
        continue;
      }
    } else if (const auto* x = std::get_if<nftables::XtMatch>(&s)) {
      t += " " + nftables::xt::describe(*x);
      continue;
    } else if (std::holds_alternative<nftables::Counter>(s)) {
      continue;  // iptables-nft counts every rule; its save lists no counter
    } else if (const auto* v = std::get_if<VerdictStatement>(&s)) {
      switch (v->verdict.kind) {
        case Verdict::Kind::Accept: t += " -j ACCEPT"; break;
        case Verdict::Kind::Drop: t += " -j DROP"; break;
        case Verdict::Kind::Return: t += " -j RETURN"; break;
        case Verdict::Kind::Jump: t += " -j " + v->verdict.chain; break;
        case Verdict::Kind::Goto: t += " -g " + v->verdict.chain; break;
      }
      continue;
    }
    t += " " + nftables::to_string(s, r.family == Family::Ip6);  // nothing tether writes here
  }
  return t;
}

}  // namespace tether::firewall::nft
