#include "lib/firewall/naming.hpp"

#include <cstdint>
#include <cstdio>

namespace tether::firewall {
namespace {

constexpr std::size_t kHashLen = 16;
constexpr std::size_t kMaxComment = 255;  // XT_MAX_COMMENT_LEN - NUL
constexpr std::string_view kTag = "tether:";

std::string fnv1a_hex(const std::string& data) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char out[kHashLen + 1];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

bool is_hex(std::string_view s) {
  return s.size() == kHashLen && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string network_hash(const std::string& network) { return fnv1a_hex("net\n" + network); }

std::string attachment_hash(const AttachmentKey& key) {
  // NUL separators: ("a", "bc") and ("ab", "c") must not collide by construction.
  return fnv1a_hex(key.network + std::string(1, '\0') + key.container_id + std::string(1, '\0') + key.ifname);
}

std::string attachment_comment(const AttachmentKey& key) {
  std::string c = std::string(kTag) + network_hash(key.network) + ":" + attachment_hash(key) + " net=" + key.network +
                  " id=" + key.container_id + " if=" + key.ifname;
  if (c.size() > kMaxComment) c.resize(kMaxComment);
  return c;
}

std::string shared_comment(const std::string& what) {
  return (std::string(kTag) + "shared " + what).substr(0, kMaxComment);
}

namespace {

// "tether:<net-hash><kind> net=<network>", for rules that belong to a whole network.
std::string network_level_comment(const std::string& network, std::string_view kind) {
  std::string c = std::string(kTag) + network_hash(network) + std::string(kind) + " net=" + network;
  if (c.size() > kMaxComment) c.resize(kMaxComment);
  return c;
}

std::optional<std::string_view> parse_network_level_comment(std::string_view comment, std::string_view kind) {
  const std::size_t head = kTag.size() + kHashLen + kind.size();
  if (comment.size() < head || comment.compare(0, kTag.size(), kTag) != 0) return std::nullopt;
  if (comment.compare(kTag.size() + kHashLen, kind.size(), kind) != 0) return std::nullopt;
  if (comment.size() > head && comment[head] != ' ') return std::nullopt;
  const std::string_view hash = comment.substr(kTag.size(), kHashLen);
  if (!is_hex(hash)) return std::nullopt;
  return hash;
}

}  // namespace

std::string network_rule_comment(const std::string& network) { return network_level_comment(network, ":network"); }
std::string forward_rule_comment(const std::string& network) { return network_level_comment(network, ":forward"); }
std::optional<std::string_view> parse_network_rule_comment(std::string_view comment) {
  return parse_network_level_comment(comment, ":network");
}
std::optional<std::string_view> parse_forward_rule_comment(std::string_view comment) {
  return parse_network_level_comment(comment, ":forward");
}

std::optional<CommentTag> parse_attachment_comment(std::string_view comment) {
  // "tether:" + 16 + ":" + 16, then optionally " readable"
  const std::size_t head = kTag.size() + kHashLen + 1 + kHashLen;
  if (comment.size() < head || comment.compare(0, kTag.size(), kTag) != 0) return std::nullopt;
  if (comment[kTag.size() + kHashLen] != ':') return std::nullopt;
  if (comment.size() > head && comment[head] != ' ') return std::nullopt;
  CommentTag tag{comment.substr(kTag.size(), kHashLen), comment.substr(kTag.size() + kHashLen + 1, kHashLen),
                 comment.size() > head ? comment.substr(head + 1) : std::string_view()};
  if (!is_hex(tag.network_hash) || !is_hex(tag.attachment_hash)) return std::nullopt;
  return tag;
}

}  // namespace tether::firewall
