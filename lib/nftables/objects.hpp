#pragma once
// Plain descriptions of the nftables objects tether writes and reads: tables, chains, sets and
// maps, set elements and rules. No libnftnl types: lib/nftables turns these into netlink messages
// (batch.hpp) and back (reader.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/nftables/statement.hpp"

namespace tether::nftables {

using Bytes = std::vector<std::uint8_t>;

// nftables families (the values are the kernel's NFPROTO_*).
enum class Family : std::uint8_t { Inet = 1, Ip = 2, Bridge = 7, Ip6 = 10 };
const char* family_name(Family f);  // "ip", "ip6", "bridge", "inet"

struct Table {
  Family family = Family::Ip;
  std::string name;
  std::string comment;  // shown by `nft list`; cut to kMaxComment bytes
};

enum class Hook : std::uint8_t { Prerouting, Input, Forward, Output, Postrouting };

struct BaseChain {
  Hook hook = Hook::Prerouting;
  int priority = 0;             // -100 dstnat, 100 srcnat, 0 filter, -300 bridge dstnat
  std::string type = "filter";  // "nat" | "filter"
  bool policy_accept = true;    // false = drop
};

struct Chain {
  Family family = Family::Ip;
  std::string table;
  std::string name;
  std::string comment;
  std::optional<BaseChain> base;  // nullopt: a regular chain (jump/goto target)
  std::uint64_t handle = 0;       // read back only
  std::uint32_t use = 0;          // read back only: the references to it (jumps, gotos)
};

// The data types a set key is made of (several = a concatenation "a . b . c").
enum class KeyType : std::uint8_t { Ipv4Addr, Ipv6Addr, InetProto, InetService, IfName, EtherAddr };

struct Set {
  Family family = Family::Ip;
  std::string table;
  std::string name;
  std::vector<KeyType> key;
  bool verdict_map = false;   // `type <key> : verdict`
  std::vector<KeyType> data;  // `type <key> : <data>`, a data map (a concatenation: nft 1.0.6's
                              // own layout for a single data type is not reproduced here)
  bool interval = false;      // `flags interval`: only for concatenated keys (the kernel's pipapo
                              // set; elements are key .. key_end ranges, field by field)
  bool is_map() const noexcept { return verdict_map || !data.empty(); }
};

struct Element {
  Family family = Family::Ip;
  std::string table;
  std::string set;
  Bytes key;                       // encoded with KeyBuilder (key.hpp)
  Bytes key_end;                   // interval sets: the range's last key (same encoding); else empty
  std::optional<Verdict> verdict;  // vmap data
  Bytes data;                      // data map value (KeyBuilder encoding of the data fields)
  std::string comment;
  std::string label;  // how error messages name the element ("tcp . 8080")
};

struct Rule {
  Family family = Family::Ip;
  std::string table;
  std::string chain;
  std::vector<Statement> statements;
  std::string comment;
  // A rule for a table iptables-nft manages: sent with NFTA_RULE_COMPAT (l4proto 0, no flags)
  // like iptables-nft sends its rules (the compat layer checks x_tables matches against it).
  bool xt_compat = false;
  std::uint64_t handle = 0;  // read back only
};

// The kernel's view of a table.
struct TableInfo {
  std::uint32_t use = 0;  // objects inside: chains + sets (+ flowtables, stateful objects)
  std::string comment;
};

// NFTNL_UDATA_COMMENT_MAXLEN: nft refuses longer comments.
inline constexpr std::size_t kMaxComment = 128;

}  // namespace tether::nftables
