#pragma once
// Pure IP arithmetic (no syscalls): parse/format/compare/contains/next for IPv4 and IPv6.
// Parsing is strict (unlike nl_addr_parse): no leading zeros in prefixes, no trailing junk,
// prefix ≤ 32/128.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::net {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;                                         // 0.0.0.0
  static std::optional<IpAddress> parse(std::string_view text);  // "10.0.0.1", "fd00::1"
  static IpAddress v4(std::uint32_t host_order);
  static IpAddress from_bytes(Family f, const std::uint8_t* bytes);  // 4 or 16 network-order bytes

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::V4; }
  const std::uint8_t* bytes() const noexcept { return bytes_.data(); }  // network order
  std::size_t size() const noexcept { return is_v4() ? 4 : 16; }
  std::uint32_t v4_host_order() const noexcept;
  std::string to_string() const;

  IpAddress next() const noexcept;  // +1, wraps
  IpAddress prev() const noexcept;  // -1, wraps
  bool is_zero() const noexcept;

  auto operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};  // v4 uses the first 4
};

// An address with a prefix length. `address` may have host bits set (a host's CIDR like 10.0.0.5/24).
class IpPrefix {
 public:
  IpPrefix() = default;
  IpPrefix(IpAddress addr, int len) : addr_(addr), len_(len) {}
  static std::optional<IpPrefix> parse(std::string_view text);  // "10.0.0.0/24"; no "/" → invalid
  // Accepts a bare address as a host prefix (/32, /128) too.
  static std::optional<IpPrefix> parse_address_or_prefix(std::string_view text);

  const IpAddress& address() const noexcept { return addr_; }
  int length() const noexcept { return len_; }
  Family family() const noexcept { return addr_.family(); }
  int max_length() const noexcept { return addr_.is_v4() ? 32 : 128; }

  IpPrefix network() const noexcept;   // host bits cleared
  IpAddress first() const noexcept;    // == network().address()
  IpAddress last() const noexcept;     // all host bits set (the v4 broadcast)
  IpAddress netmask() const noexcept;  // 255.255.255.0 / ffff:...
  bool contains(const IpAddress& a) const noexcept;
  bool overlaps(const IpPrefix& o) const noexcept;
  bool host_bits_zero() const noexcept { return network().address() == addr_; }
  std::string to_string() const;  // "10.0.0.5/24"

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress addr_;
  int len_ = 0;
};

}  // namespace tether::net
