#pragma once
// The x_tables matches iptables-nft (1.8.9) writes through nf_tables' compat layer, as XtMatch
// statements: `-m conntrack --ctstate ...` (rev 3, struct xt_conntrack_mtinfo3) and
// `-m comment --comment ...` (rev 0, struct xt_comment_info), byte for byte what iptables-nft
// puts into the `match` expression (read back from the kernel in tests). iptables-nft refuses a
// whole table ("incompatible, use 'nft' tool") that holds a native ct expression, so rules in its
// tables must use these. Pure.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/nftables/statement.hpp"

namespace tether::nftables::xt {

// --ctstate bits (XT_CONNTRACK_STATE_*; xt_compat.cpp checks them against the kernel's header).
inline constexpr std::uint16_t kCtInvalid = 1 << 0;
inline constexpr std::uint16_t kCtEstablished = 1 << 1;
inline constexpr std::uint16_t kCtRelated = 1 << 2;
inline constexpr std::uint16_t kCtNew = 1 << 3;
inline constexpr std::uint16_t kCtSnat = 1 << 6;
inline constexpr std::uint16_t kCtDnat = 1 << 7;
inline constexpr std::uint16_t kCtUntracked = 1 << 8;

// -m conntrack --ctstate <bits> (throws tether::Error for no bits or unknown ones).
XtMatch conntrack_state(std::uint16_t state_mask);
// -m comment --comment <text>, cut to 255 bytes like iptables does.
XtMatch comment(std::string_view text);

// The --ctstate bits of a conntrack match that tests nothing else; nullopt for any other match.
std::optional<std::uint16_t> conntrack_state_of(const XtMatch& m);
// The text of a comment match; nullopt for any other match.
std::optional<std::string> comment_of(const XtMatch& m);
// The first comment match's text among `rule`'s statements.
std::optional<std::string> comment_of(const std::vector<Statement>& rule);

// "-m conntrack --ctstate RELATED,ESTABLISHED", "-m comment --comment \"...\"", else
// "-m <name> (rev N)" (messages and to_string).
std::string describe(const XtMatch& m);

}  // namespace tether::nftables::xt
