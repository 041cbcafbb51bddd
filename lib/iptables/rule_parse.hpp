#pragma once
// Reading back entries libiptc hands out (iptc_first_rule/next_rule): pure functions over the raw
// bytes of one [entry | matches | target].
#include <cstdint>
#include <optional>
#include <string_view>

#include "lib/net/ip.hpp"

namespace tether::iptables {

// Views point into the parsed entry: valid as long as the entry bytes are.
struct ParsedRule {
  std::optional<std::string_view> comment;  // text of the first "comment" match
  std::uint16_t proto = 0;                  // ip.proto
  std::optional<std::uint16_t> dport;       // tcp/udp/sctp single destination port
};

// `entry` points at an ipt_entry (v4) or ip6t_entry (v6) whose next_offset bytes are readable.
ParsedRule parse_entry(net::Family family, const void* entry);

}  // namespace tether::iptables
