// iptables-save rendering of a RuleSpec: used in error messages ("rule missing: -A ...") and as the
// expected text in tests that read rules back with iptables-legacy-save.
#include <cstdio>
#include <cstring>
#include <string>

#include "lib/iptables/rule_spec.hpp"

namespace tether::iptables {
namespace {

std::string hex(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

// iptables' xtables_save_string: bare when only [A-Za-z0-9_-], else quoted with \ before " \ '.
std::string save_string(const std::string& s) {
  static const char kPlain[] = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  if (!s.empty() && s.find_first_not_of(kPlain) == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Built with append(): GCC 12's -Wrestrict misfires on chained operator+ of short literals.
std::string option(bool invert, const char* opt, const std::string& value) {
  std::string s;
  if (invert) s.append(" !");
  s.append(" ").append(opt).append(" ").append(value);
  return s;
}

std::string addr(const char* opt, const AddrMatch& a) { return option(a.invert, opt, a.prefix.network().to_string()); }

std::string iface(const char* opt, const IfaceMatch& i) { return option(i.invert, opt, i.name); }

std::string target_text(const RuleSpec& spec) {
  struct Visitor {
    const RuleSpec& spec;
    std::string operator()(const Verdict& v) const { return " -j " + v.label; }
    std::string operator()(const Masquerade&) const { return " -j MASQUERADE"; }
    std::string operator()(const Dnat& d) const {
      std::string a = d.address.to_string();
      if (d.port == 0) return " -j DNAT --to-destination " + a;
      if (!d.address.is_v4()) a = "[" + a + "]";
      return " -j DNAT --to-destination " + a + ":" + std::to_string(d.port);
    }
    std::string operator()(const SetMark& m) const { return " -j MARK --set-xmark " + hex(m.mark) + "/" + hex(m.mask); }
  };
  return std::visit(Visitor{spec}, spec.target);
}

}  // namespace

std::string to_save_line(const std::string& chain, const RuleSpec& spec) {
  std::string s = "-A " + chain;
  if (spec.src) s += addr("-s", *spec.src);
  if (spec.dst) s += addr("-d", *spec.dst);
  if (spec.in) s += iface("-i", *spec.in);
  if (spec.out) s += iface("-o", *spec.out);
  if (spec.proto != Proto::Any) s += std::string(" -p ") + proto_name(spec.proto);
  if (spec.dport) s += std::string(" -m ") + proto_name(spec.proto) + " --dport " + std::to_string(*spec.dport);
  if (spec.dst_type_local) s += " -m addrtype --dst-type LOCAL";
  if (spec.mark) {
    s += " -m mark";
    if (spec.mark->invert) s += " !";
    s.append(" --mark ").append(hex(spec.mark->mark));
    if (spec.mark->mask != 0xffffffffU) s.append("/").append(hex(spec.mark->mask));
  }
  if (spec.ct) {
    // iptables-save's order: INVALID, NEW, RELATED, ESTABLISHED, UNTRACKED, SNAT, DNAT.
    static constexpr std::pair<std::uint16_t, const char*> kNames[] = {{CtStateMatch::kNew, "NEW"},
                                                                       {CtStateMatch::kRelated, "RELATED"},
                                                                       {CtStateMatch::kEstablished, "ESTABLISHED"},
                                                                       {CtStateMatch::kDnat, "DNAT"}};
    std::string states;
    for (const auto& [bit, name] : kNames)
      if (spec.ct->states & bit) states += (states.empty() ? "" : ",") + std::string(name);
    s += " -m conntrack --ctstate " + states;
  }
  if (!spec.comment.empty()) s += " -m comment --comment " + save_string(spec.comment.substr(0, 255));
  return s + target_text(spec);
}

}  // namespace tether::iptables
