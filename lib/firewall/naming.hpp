#pragma once
// Names and tags of everything tether puts into the nat table. Pure; derived only from stable IDs
// (network name, container ID, ifname), never from addresses, so DEL/GC need no netns and no
// prevResult.
//
// Every per-attachment rule carries the comment
//     "tether:<net-hash>:<att-hash> net=<network> id=<containerID> if=<ifname>"
// (truncated to 255 bytes; the two 16-hex hashes come first so truncation never loses identity).
// Per-network rules (a subnet's hairpin mark and masquerade) carry "tether:<net-hash>:network net=<network>".
// Shared rules (jumps, the localhost/multicast rules) carry "tether:shared <what>".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/firewall/firewall.hpp"

namespace tether::firewall {

inline constexpr const char* kHostportsChain = "TETHER-HOSTPORTS";      // DNAT, one rule per mapping
inline constexpr const char* kPostroutingChain = "TETHER-POSTROUTING";  // MASQUERADE rules
inline constexpr std::size_t kMaxChainName = 28;  // libiptc stores jump targets in 29 bytes incl. NUL
// Packet mark bit meaning "masquerade me" (bit 13, portmap's default markMasqBit).
inline constexpr std::uint32_t kMasqMark = 0x2000;

// 16 lowercase hex digits of a 64-bit FNV-1a hash.
std::string network_hash(const std::string& network);
std::string attachment_hash(const AttachmentKey& key);

std::string attachment_comment(const AttachmentKey& key);
std::string shared_comment(const std::string& what);
std::string network_rule_comment(const std::string& network);
// A network's FORWARD accepts: "tether:<net-hash>:forward net=<network>".
std::string forward_rule_comment(const std::string& network);

// Views into the parsed comment (no allocation: DEL/GC parse every rule of our chains).
struct CommentTag {
  std::string_view network_hash;
  std::string_view attachment_hash;
  std::string_view readable;  // "net=... id=... if=..." (possibly truncated)
};
// nullopt for anything that is not a per-attachment tether comment.
std::optional<CommentTag> parse_attachment_comment(std::string_view comment);
// The network hash of a per-network rule's comment; nullopt for anything else.
std::optional<std::string_view> parse_network_rule_comment(std::string_view comment);
std::optional<std::string_view> parse_forward_rule_comment(std::string_view comment);

}  // namespace tether::firewall
