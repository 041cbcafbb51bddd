#pragma once
// Ethernet MAC addresses (pure).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tether::net {

using Mac = std::array<std::uint8_t, 6>;

// "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (one separator throughout), any letter case.
std::optional<Mac> parse_mac(std::string_view text);
std::string format_mac(const Mac& m);                                  // "aa:bb:cc:dd:ee:ff"
inline bool is_multicast(const Mac& m) { return (m[0] & 0x01) != 0; }  // broadcast included
// Both parse and are the same address ("0A-58-..." equals "0a:58:...").
bool same_mac(std::string_view a, std::string_view b);

}  // namespace tether::net
