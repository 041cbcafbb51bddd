#include <linux/netfilter/x_tables.h>
#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_tcpudp.h>
#include <linux/netfilter_ipv4/ip_tables.h>
#include <linux/netfilter_ipv6/ip6_tables.h>

#include <cstring>

#include "lib/iptables/rule_parse.hpp"

namespace tether::iptables {

ParsedRule parse_entry(net::Family family, const void* entry) {
  const auto* base = static_cast<const std::uint8_t*>(entry);
  ParsedRule out;
  std::size_t offset = 0;
  std::size_t target_offset = 0;
  if (family == net::Family::V4) {
    const auto* e = static_cast<const ipt_entry*>(entry);
    offset = sizeof(ipt_entry);
    target_offset = e->target_offset;
    out.proto = e->ip.proto;
  } else {
    const auto* e = static_cast<const ip6t_entry*>(entry);
    offset = sizeof(ip6t_entry);
    target_offset = e->target_offset;
    out.proto = e->ipv6.proto;
  }
  while (offset + sizeof(xt_entry_match) <= target_offset) {
    const auto* m = reinterpret_cast<const xt_entry_match*>(base + offset);
    if (m->u.match_size < sizeof(xt_entry_match)) break;  // corrupt: stop rather than loop
    const char* name = m->u.user.name;
    if (!out.comment && std::strcmp(name, "comment") == 0) {
      const auto* c = reinterpret_cast<const xt_comment_info*>(m->data);
      out.comment = std::string_view(c->comment, strnlen(c->comment, sizeof(c->comment)));
    } else if (std::strcmp(name, "tcp") == 0 || std::strcmp(name, "udp") == 0) {
      // xt_tcp and xt_udp both start with spts[2], dpts[2] (host order).
      const auto* t = reinterpret_cast<const xt_udp*>(m->data);
      if (t->dpts[0] == t->dpts[1]) out.dport = t->dpts[0];
    } else if (std::strcmp(name, "sctp") == 0) {
      std::uint16_t dpts[2];  // xt_sctp_info starts with dpts[2]
      std::memcpy(dpts, m->data, sizeof dpts);
      if (dpts[0] == dpts[1]) out.dport = dpts[0];
    }
    offset += m->u.match_size;
  }
  return out;
}

}  // namespace tether::iptables
