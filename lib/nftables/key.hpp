#pragma once
// Set keys: what the kernel gets for a set's key type (nft's datatype numbers, lengths, the
// userdata nft needs to print the keys) and the byte encoding of one key. Concatenated keys put
// every field in its own 4-byte-aligned slot, like the registers the lookup loads them into.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/nftables/objects.hpp"

namespace tether::nftables {

struct SetKeyInfo {
  std::uint32_t type = 0;  // NFTA_SET_KEY_TYPE: nft datatype id, concatenations 6 bits per field
  std::uint32_t len = 0;   // NFTA_SET_KEY_LEN
  Bytes udata;             // NFTA_SET_USERDATA exactly as nft 1.0.6 writes it for `type <key> : verdict`
};
SetKeyInfo set_key_info(const std::vector<KeyType>& key, bool verdict_map);

// Appends the fields of one key in declaration order. In a concatenation every field is padded to
// 4 bytes; a single-field key is the field alone.
class KeyBuilder {
 public:
  explicit KeyBuilder(bool concatenation = true) : concat_(concatenation) {}
  KeyBuilder& address(const net::IpAddress& a);
  KeyBuilder& proto(std::uint8_t p);      // inet_proto
  KeyBuilder& port(std::uint16_t p);      // inet_service (network order on the wire)
  KeyBuilder& ifname(const std::string& name);
  KeyBuilder& ether(const std::array<std::uint8_t, 6>& mac);
  const Bytes& bytes() const noexcept { return key_; }

 private:
  void pad();
  bool concat_;
  Bytes key_;
};

}  // namespace tether::nftables
