#pragma once
// Set keys: what the kernel gets for a set's key and data types (nft's datatype numbers, lengths,
// flags, the userdata nft needs to print them) and the byte encoding of one key or value.
// Concatenations put every field in its own 4-byte-aligned slot, like the registers a lookup
// loads them into.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/nftables/objects.hpp"

namespace tether::nftables {

// Everything NFT_MSG_NEWSET carries about a set's types, exactly as nft 1.0.6 sends it for the
// same declaration (captured with a libnftnl dump of what nft created; tests compare).
struct SetKeyInfo {
  std::uint32_t type = 0;       // NFTA_SET_KEY_TYPE: nft datatype id, concatenations 6 bits per field
  std::uint32_t len = 0;        // NFTA_SET_KEY_LEN
  std::uint32_t data_type = 0;  // maps: NFT_DATA_VERDICT or the data's datatype id
  std::uint32_t data_len = 0;
  std::uint32_t flags = 0;              // NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT
  std::vector<std::uint8_t> field_len;  // NFTA_SET_DESC_CONCAT (interval concatenations only)
  Bytes udata;                          // NFTA_SET_USERDATA
};
// Throws tether::Error for a layout tether does not reproduce (see Set).
SetKeyInfo set_key_info(const Set& s);

// Appends the fields of one key (or map value) in declaration order. In a concatenation every
// field is padded to 4 bytes; a single-field key is the field alone.
class KeyBuilder {
 public:
  explicit KeyBuilder(bool concatenation = true) : concat_(concatenation) {}
  KeyBuilder& address(const net::IpAddress& a);
  KeyBuilder& proto(std::uint8_t p);  // inet_proto
  KeyBuilder& port(std::uint16_t p);  // inet_service (network order on the wire)
  KeyBuilder& ifname(const std::string& name);
  KeyBuilder& ether(const std::array<std::uint8_t, 6>& mac);
  const Bytes& bytes() const noexcept { return key_; }

 private:
  void pad();
  bool concat_;
  Bytes key_;
};

}  // namespace tether::nftables
