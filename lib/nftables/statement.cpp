#include "lib/nftables/statement.hpp"

#include <cstdio>

#include "lib/nftables/objects.hpp"
#include "lib/nftables/xt_compat.hpp"

namespace tether::nftables {

const char* family_name(Family f) {
  switch (f) {
    case Family::Inet: return "inet";
    case Family::Ip: return "ip";
    case Family::Ip6: return "ip6";
    case Family::Bridge: return "bridge";
  }
  return "?";
}

const char* field_name(Field f) {
  switch (f) {
    case Field::L4Proto: return "meta l4proto";
    case Field::IifName: return "iifname";
    case Field::OifName: return "oifname";
    case Field::Mark: return "meta mark";
    case Field::SAddr: return "saddr";
    case Field::DAddr: return "daddr";
    case Field::ThDport: return "th dport";
    case Field::EtherSAddr: return "ether saddr";
    case Field::FibDaddrType: return "fib daddr type";
    case Field::CtStatus: return "ct status";
    case Field::CtState: return "ct state";
  }
  return "?";
}

namespace {

std::string field_text(Field f, bool ip6) {
  if (f == Field::SAddr || f == Field::DAddr) return std::string(ip6 ? "ip6 " : "ip ") + field_name(f);
  return field_name(f);
}

std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// nft's names of the ct state bits, in nft's order.
std::string ct_state_text(std::uint32_t bits) {
  static constexpr std::pair<std::uint32_t, const char*> kNames[] = {{1, "invalid"},
                                                                     {2, "established"},
                                                                     {4, "related"},
                                                                     {8, "new"},
                                                                     {64, "untracked"}};
  std::string t;
  for (const auto& [bit, name] : kNames)
    if (bits & bit) {
      t += (t.empty() ? "" : ",") + std::string(name);
      bits &= ~bit;
    }
  return bits ? t + (t.empty() ? "" : ",") + hex32(bits) : t;
}

std::string value_text(const Match& m) {
  if (const auto* n = std::get_if<std::uint32_t>(&m.value)) {
    if (m.field == Field::CtState) return ct_state_text(*n);
    if (m.field == Field::CtStatus && *n == 0x20) return "dnat";  // IPS_DST_NAT
    return m.field == Field::Mark || m.field == Field::CtStatus ? hex32(*n) : std::to_string(*n);
  }
  if (const auto* p = std::get_if<net::IpPrefix>(&m.value))
    return p->length() == p->max_length() ? p->address().to_string() : p->to_string();
  if (const auto* s = std::get_if<std::string>(&m.value)) return "\"" + *s + "\"";
  const auto& mac = std::get<MacAddress>(m.value);
  char b[24];
  std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
  return b;
}

std::string verdict_text(const Verdict& v) {
  switch (v.kind) {
    case Verdict::Kind::Accept: return "accept";
    case Verdict::Kind::Drop: return "drop";
    case Verdict::Kind::Return: return "return";
    case Verdict::Kind::Jump: return "jump " + v.chain;
    case Verdict::Kind::Goto: return "goto " + v.chain;
  }
  return "?";
}

std::string key_text(const std::vector<Field>& key, bool ip6) {
  std::string t;
  for (Field f : key) t += (t.empty() ? "" : " . ") + field_text(f, ip6);
  return t;
}

}  // namespace

std::string to_string(const Statement& s, bool ip6) {
  if (const auto* m = std::get_if<Match>(&s)) {
    std::string t = field_text(m->field, ip6);
    if (m->mask != 0xffffffff) t += " & " + hex32(m->mask);
    return t + (m->negate ? " != " : " ") + value_text(*m);
  }
  if (const auto* b = std::get_if<SetMarkBits>(&s)) return "meta mark set meta mark | " + hex32(b->bits);
  if (const auto* v = std::get_if<VmapLookup>(&s)) return key_text(v->key, ip6) + " vmap @" + v->map;
  if (const auto* l = std::get_if<SetLookup>(&s)) return key_text(l->key, ip6) + (l->negate ? " != @" : " @") + l->set;
  if (const auto* d = std::get_if<DnatMap>(&s))
    return std::string(ip6 ? "dnat ip6 to " : "dnat ip to ") + key_text(d->key, ip6) + " map @" + d->map;
  if (const auto* d = std::get_if<DnatTo>(&s)) {
    const bool v6 = !d->addr.is_v4();
    return std::string("dnat ") + (v6 ? "ip6 to [" : "to ") + d->addr.to_string() + (v6 ? "]:" : ":") +
           std::to_string(d->port);
  }
  if (std::holds_alternative<Masquerade>(s)) return "masquerade";
  if (const auto* x = std::get_if<XtMatch>(&s)) return xt::describe(*x);
  if (std::holds_alternative<Counter>(s)) return "counter";
  return verdict_text(std::get<VerdictStatement>(s).verdict);
}

std::string to_string(const std::vector<Statement>& rule, bool ip6) {
  std::string t;
  for (const auto& s : rule) t += (t.empty() ? "" : " ") + to_string(s, ip6);
  return t;
}

}  // namespace tether::nftables
