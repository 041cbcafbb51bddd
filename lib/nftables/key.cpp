#include "lib/nftables/key.hpp"

#include <linux/netfilter/nf_tables.h>

#include "lib/nftables/udata.hpp"
#include "lib/util/error.hpp"

namespace tether::nftables {
namespace {

// nftables' datatype ids (src/datatype.h: TYPE_IPADDR, ...). Not in any public header.
constexpr std::uint32_t kTypeIpAddr = 7, kTypeIp6Addr = 8, kTypeEtherAddr = 9, kTypeInetProto = 12,
                        kTypeInetService = 13, kTypeIfName = 41;
constexpr std::uint32_t kTypeBits = 6;
// nft's byte orders (BYTEORDER_INVALID, _HOST_ENDIAN, _BIG_ENDIAN) and expression type of a concatenation.
constexpr std::uint32_t kByteorderInvalid = 0, kByteorderHost = 1, kByteorderBig = 2;
constexpr std::uint32_t kExprConcat = 13;
// NFTNL_UDATA_SET_*
constexpr std::uint8_t kUdKeyByteorder = 0, kUdDataByteorder = 1, kUdKeyTypeof = 3, kUdDataTypeof = 4,
                       kUdDataInterval = 6;

struct TypeInfo {
  std::uint32_t id, len, byteorder;
};
TypeInfo info(KeyType t) {
  switch (t) {
    case KeyType::Ipv4Addr: return {kTypeIpAddr, 4, kByteorderBig};
    case KeyType::Ipv6Addr: return {kTypeIp6Addr, 16, kByteorderBig};
    case KeyType::InetProto: return {kTypeInetProto, 1, kByteorderBig};
    case KeyType::InetService: return {kTypeInetService, 2, kByteorderBig};
    case KeyType::IfName: return {kTypeIfName, 16, kByteorderHost};
    case KeyType::EtherAddr: return {kTypeEtherAddr, 6, kByteorderBig};
  }
  throw Error("nftables: unknown key type");
}

std::uint32_t concat_type(const std::vector<KeyType>& fields) {
  std::uint32_t type = 0;
  for (KeyType k : fields) type = type << kTypeBits | info(k).id;
  return type;
}

std::uint32_t concat_len(const std::vector<KeyType>& fields) {
  std::uint32_t len = 0;
  for (KeyType k : fields) len += (info(k).len + 3) / 4 * 4;
  return len;
}

// nft records the expression a concatenation was declared with (type EXPR_CONCAT, no
// sub-expressions when the set is declared by types); it reads this back to print `a . b . c`.
Bytes concat_typeof() {
  UdataWriter nest;
  nest.put_u32(0, kExprConcat);  // NFTNL_UDATA_SET_TYPEOF_EXPR
  nest.put_bytes(1, {});         // NFTNL_UDATA_SET_TYPEOF_DATA
  return nest.bytes();
}

}  // namespace

SetKeyInfo set_key_info(const Set& s) {
  const std::string what = "nftables: set " + s.name + ": ";
  if (s.key.empty() || s.key.size() > 5) throw Error(what + "a set key has 1-5 fields");
  if (s.verdict_map && !s.data.empty()) throw Error(what + "a map has verdicts or data, not both");
  if (s.data.size() == 1 || s.data.size() > 5) throw Error(what + "map data must be a concatenation of 2-5 fields");
  if (s.interval && s.key.size() < 2) throw Error(what + "interval sets are supported for concatenated keys only");
  SetKeyInfo out;
  const bool concat = s.key.size() > 1;
  out.type = concat ? concat_type(s.key) : info(s.key.front()).id;
  out.len = concat ? concat_len(s.key) : info(s.key.front()).len;
  if (s.verdict_map) {
    out.flags |= NFT_SET_MAP;
    out.data_type = NFT_DATA_VERDICT;
  } else if (!s.data.empty()) {
    out.flags |= NFT_SET_MAP;
    out.data_type = concat_type(s.data);
    out.data_len = concat_len(s.data);
  }
  if (s.interval) {
    out.flags |= NFT_SET_INTERVAL | NFT_SET_CONCAT;
    for (KeyType k : s.key) out.field_len.push_back(static_cast<std::uint8_t>(info(k).len));
  }
  UdataWriter w;
  w.put_u32(kUdKeyByteorder, concat ? kByteorderInvalid : info(s.key.front()).byteorder);
  if (s.is_map()) w.put_u32(kUdDataByteorder, kByteorderInvalid);
  if (concat) w.put_bytes(kUdKeyTypeof, concat_typeof());
  if (!s.data.empty()) w.put_bytes(kUdDataTypeof, concat_typeof());
  if (s.is_map()) w.put_u32(kUdDataInterval, 0);
  out.udata = w.bytes();
  return out;
}

void KeyBuilder::pad() {
  while (concat_ && key_.size() % 4) key_.push_back(0);
}

KeyBuilder& KeyBuilder::address(const net::IpAddress& a) {
  key_.insert(key_.end(), a.bytes(), a.bytes() + a.size());
  return *this;
}

KeyBuilder& KeyBuilder::proto(std::uint8_t p) {
  key_.push_back(p);
  pad();
  return *this;
}

KeyBuilder& KeyBuilder::port(std::uint16_t p) {
  key_.push_back(static_cast<std::uint8_t>(p >> 8));
  key_.push_back(static_cast<std::uint8_t>(p & 0xff));
  pad();
  return *this;
}

KeyBuilder& KeyBuilder::ifname(const std::string& name) {
  if (name.empty() || name.size() >= 16)
    throw Error("nftables: interface name '" + name + "' must have 1-15 characters");
  Bytes b(16, 0);
  std::copy(name.begin(), name.end(), b.begin());
  key_.insert(key_.end(), b.begin(), b.end());
  return *this;
}

KeyBuilder& KeyBuilder::ether(const std::array<std::uint8_t, 6>& mac) {
  key_.insert(key_.end(), mac.begin(), mac.end());
  pad();
  return *this;
}

}  // namespace tether::nftables
