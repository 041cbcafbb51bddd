#pragma once
// nftables "userdata": the TLV blobs (u8 type, u8 length, value; nests allowed) the kernel stores
// opaquely on tables, chains, sets, elements and rules, where nft keeps comments and how to print
// a set's keys. Pure (libnftnl's nftnl_udata_* writes the same bytes).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/nftables/objects.hpp"

namespace tether::nftables {

class UdataWriter {
 public:
  void put_u32(std::uint8_t type, std::uint32_t host_order);
  void put_string(std::uint8_t type, std::string_view s);  // NUL-terminated, as nft writes comments
  void put_bytes(std::uint8_t type, const Bytes& value);
  const Bytes& bytes() const noexcept { return buf_; }

 private:
  Bytes buf_;
};

// The comment TLV (type 0 for tables, chains, rules and set elements) cut to kMaxComment bytes.
Bytes comment_udata(std::string_view comment);
// The type-0 string of a udata blob; nullopt when absent or malformed.
std::optional<std::string> comment_of(const Bytes& udata);
// The same as a view into `udata`.
std::optional<std::string_view> comment_view(std::span<const std::uint8_t> udata);
// `text` cut to at most kMaxComment bytes without splitting a UTF-8 sequence (nft -j emits JSON,
// which an invalid sequence would break).
std::string clamp_comment(std::string_view text);

}  // namespace tether::nftables
