#pragma once
// The rule language of lib/nftables: the few nft statements tether's rules are made of, as plain
// values. compile() turns them into the exact expression sequences the nft 1.0.6 CLI emits (so
// `nft list` prints them as nft text), decompile() recognises those sequences again (CHECK
// compares whole rules).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "lib/net/ip.hpp"

namespace tether::nftables {

struct Verdict {
  enum class Kind : std::uint8_t { Accept, Drop, Return, Jump, Goto };
  Kind kind = Kind::Accept;
  std::string chain;  // jump/goto
  bool operator==(const Verdict&) const = default;
};

// What a match or a map key reads. Addresses are the table family's (ip or ip6 header).
enum class Field : std::uint8_t {
  L4Proto,       // meta l4proto         value: number (IPPROTO_*)
  IifName,       // meta iifname         value: text
  OifName,       // meta oifname         value: text
  Mark,          // meta mark [& mask]   value: number
  SAddr,         // ip/ip6 saddr         value: prefix (a host address = full-length prefix)
  DAddr,         // ip/ip6 daddr         value: prefix
  ThDport,       // th dport             value: number (host order)
  EtherSAddr,    // ether saddr          value: mac
  FibDaddrType,  // fib daddr type       value: number (RTN_LOCAL = 2)
  CtStatus,      // ct status            value: bits (IPS_*); matches when any of them is set
  CtState,       // ct state             value: bits (NF_CT_STATE_BIT: established 2, related 4, new 8,
                 //                      invalid 1); matches when any of them is set
};
const char* field_name(Field f);

using MacAddress = std::array<std::uint8_t, 6>;
using MatchValue = std::variant<std::uint32_t, net::IpPrefix, std::string, MacAddress>;

struct Match {
  Field field = Field::L4Proto;
  bool negate = false;  // != instead of ==
  MatchValue value = std::uint32_t{0};
  std::uint32_t mask = 0xffffffff;  // Mark only: (mark & mask) ==/!= value
  bool operator==(const Match&) const = default;
};

struct SetMarkBits {  // meta mark set meta mark | bits
  std::uint32_t bits = 0;
  bool operator==(const SetMarkBits&) const = default;
};
struct VmapLookup {  // <key fields joined by " . "> vmap @map
  std::vector<Field> key;
  std::string map;
  bool operator==(const VmapLookup&) const = default;
};
struct SetLookup {  // <key fields joined by " . "> [!=] @set
  std::vector<Field> key;
  std::string set;
  bool negate = false;
  bool operator==(const SetLookup&) const = default;
};
// dnat ip|ip6 to <key fields joined by " . "> map @map, the map's data being `address . port`.
// No element for the key: the rule does not match (evaluation goes on with the next rule).
struct DnatMap {
  std::vector<Field> key;
  std::string map;
  bool operator==(const DnatMap&) const = default;
};
struct DnatTo {  // dnat [ip6] to addr:port
  net::IpAddress addr;
  std::uint16_t port = 0;
  bool operator==(const DnatTo&) const = default;
};
struct Masquerade {
  bool operator==(const Masquerade&) const = default;
};
struct VerdictStatement {
  Verdict verdict;
  bool operator==(const VerdictStatement&) const = default;
};
// An x_tables match run by nf_tables' compat layer (the `match` expression): how iptables-nft
// writes what has no native translation it can read back (-m conntrack, -m comment). `info` is
// the kernel's struct for (name, rev), byte for byte: xt_compat.hpp builds and reads the ones
// tether uses.
struct XtMatch {
  std::string name;
  std::uint32_t rev = 0;
  std::vector<std::uint8_t> info;
  bool operator==(const XtMatch&) const = default;
};
// `counter`. Equal whatever it counted: the values are the kernel's, not the rule's.
struct Counter {
  bool operator==(const Counter&) const = default;
};

using Statement = std::variant<Match, SetMarkBits, VmapLookup, SetLookup, DnatMap, DnatTo, Masquerade, VerdictStatement,
                               XtMatch, Counter>;

// "ip saddr 10.0.0.0/24", "meta l4proto 6", "dnat to 10.0.0.5:80", ... (for messages and tests;
// close to, not identical with, nft's own text).
std::string to_string(const Statement& s, bool ip6 = false);
std::string to_string(const std::vector<Statement>& rule, bool ip6 = false);

}  // namespace tether::nftables
