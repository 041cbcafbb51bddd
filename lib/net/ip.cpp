#include "lib/net/ip.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "lib/util/decimal.hpp"

namespace tether::net {
namespace {

// Longest valid textual forms: "255.255.255.255" (15) and a v6 with embedded v4 (45).
constexpr std::size_t kMaxAddrText = 45;

std::optional<int> parse_prefix_len(std::string_view s) { return util::parse_strict_decimal(s, 3); }

}  // namespace

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddrText) return std::nullopt;
  char buf[kMaxAddrText + 1];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  // inet_pton stops at NUL, so an embedded NUL would silently truncate: reject it.
  if (std::strlen(buf) != text.size()) return std::nullopt;
  std::uint8_t bytes[16];
  if (text.find(':') == std::string_view::npos) {
    // glibc's inet_pton(AF_INET) accepts only a.b.c.d with no leading zeros.
    if (::inet_pton(AF_INET, buf, bytes) != 1) return std::nullopt;
    return from_bytes(Family::V4, bytes);
  }
  if (::inet_pton(AF_INET6, buf, bytes) != 1) return std::nullopt;
  return from_bytes(Family::V6, bytes);
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::V4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::from_bytes(Family f, const std::uint8_t* bytes) {
  IpAddress a;
  a.family_ = f;
  std::memcpy(a.bytes_.data(), bytes, f == Family::V4 ? 4 : 16);
  return a;
}

std::uint32_t IpAddress::v4_host_order() const noexcept {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) | (std::uint32_t{bytes_[2]} << 8) |
         std::uint32_t{bytes_[3]};
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  const int af = is_v4() ? AF_INET : AF_INET6;
  if (::inet_ntop(af, bytes_.data(), buf, sizeof buf) == nullptr) return {};
  return buf;
}

IpAddress IpAddress::next() const noexcept {
  IpAddress r = *this;
  for (std::size_t i = size(); i-- > 0;) {
    if (++r.bytes_[i] != 0) break;
  }
  return r;
}

IpAddress IpAddress::prev() const noexcept {
  IpAddress r = *this;
  for (std::size_t i = size(); i-- > 0;) {
    if (r.bytes_[i]-- != 0) break;
  }
  return r;
}

bool IpAddress::is_zero() const noexcept {
  for (std::size_t i = 0; i < size(); ++i) {
    if (bytes_[i] != 0) return false;
  }
  return true;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  auto len = parse_prefix_len(text.substr(slash + 1));
  if (!len || *len > (addr->is_v4() ? 32 : 128)) return std::nullopt;
  return IpPrefix(*addr, *len);
}

std::optional<IpPrefix> IpPrefix::parse_address_or_prefix(std::string_view text) {
  if (text.find('/') != std::string_view::npos) return parse(text);
  auto addr = IpAddress::parse(text);
  if (!addr) return std::nullopt;
  return IpPrefix(*addr, addr->is_v4() ? 32 : 128);
}

namespace {

// Applies the prefix mask to every byte: keep network bits, then clear or set host bits.
IpAddress with_host_bits(const IpAddress& a, int len, bool set) {
  std::uint8_t b[16];
  std::memcpy(b, a.bytes(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    const int bits_in_net = len - static_cast<int>(i) * 8;
    std::uint8_t net_mask;
    if (bits_in_net >= 8) {
      net_mask = 0xff;
    } else if (bits_in_net <= 0) {
      net_mask = 0;
    } else {
      net_mask = static_cast<std::uint8_t>(0xff << (8 - bits_in_net));
    }
    b[i] = set ? static_cast<std::uint8_t>(b[i] | ~net_mask) : static_cast<std::uint8_t>(b[i] & net_mask);
  }
  return IpAddress::from_bytes(a.family(), b);
}

}  // namespace

IpPrefix IpPrefix::network() const noexcept { return IpPrefix(with_host_bits(addr_, len_, false), len_); }
IpAddress IpPrefix::first() const noexcept { return with_host_bits(addr_, len_, false); }
IpAddress IpPrefix::last() const noexcept { return with_host_bits(addr_, len_, true); }

IpAddress IpPrefix::netmask() const noexcept {
  std::uint8_t ones[16];
  std::memset(ones, 0xff, sizeof ones);
  // Clearing the host bits of all-ones leaves exactly the mask.
  return with_host_bits(IpAddress::from_bytes(family(), ones), len_, false);
}

bool IpPrefix::contains(const IpAddress& a) const noexcept {
  if (a.family() != family()) return false;
  return with_host_bits(a, len_, false) == first();
}

bool IpPrefix::overlaps(const IpPrefix& o) const noexcept {
  if (o.family() != family()) return false;
  return len_ <= o.len_ ? contains(o.address()) : o.contains(addr_);
}

std::string IpPrefix::to_string() const { return addr_.to_string() + "/" + std::to_string(len_); }

}  // namespace tether::net
