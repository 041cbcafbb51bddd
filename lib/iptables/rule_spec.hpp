#pragma once
// A pure description of one nat-table rule, independent of libiptc. build_entry() turns it into
// the exact bytes the iptables 1.8.9 CLI would produce for the same rule (verified with
// `iptables-legacy -C` in the integration tests); to_save_line() prints it in iptables-save syntax.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "lib/iptables/entry_buffer.hpp"
#include "lib/net/ip.hpp"

namespace tether::iptables {

// Values are the IANA numbers, as net::L4Proto's (policies convert with a cast).
enum class Proto : std::uint8_t { Any = 0, Tcp = 6, Udp = 17, Sctp = 132 };

const char* proto_name(Proto p);

struct AddrMatch {
  net::IpPrefix prefix;  // host bits are cleared when encoded
  bool invert = false;
};

struct IfaceMatch {
  std::string name;  // exact name, or "prefix+" wildcard
  bool invert = false;
};

// -m conntrack --ctstate (rev 3): any of these states. Values are xt_conntrack's state bits.
struct CtStateMatch {
  static constexpr std::uint16_t kEstablished = 1 << 1, kRelated = 1 << 2, kNew = 1 << 3, kDnat = 1 << 7;
  std::uint16_t states = 0;
};

struct MarkMatch {  // -m mark --mark value/mask (rev 1)
  std::uint32_t mark = 0;
  std::uint32_t mask = 0xffffffff;
  bool invert = false;
};

// Targets.
struct Verdict {  // "ACCEPT", "DROP", "RETURN" or a user chain name (a jump)
  std::string label;
};
struct Masquerade {};
struct Dnat {  // rev 2; port 0 = keep the port
  net::IpAddress address;
  std::uint16_t port = 0;
};
struct SetMark {  // MARK rev 2: --set-xmark mark/mask
  std::uint32_t mark = 0;
  std::uint32_t mask = 0xffffffff;
};
using Target = std::variant<Verdict, Masquerade, Dnat, SetMark>;

struct RuleSpec {
  net::Family family = net::Family::V4;
  std::optional<AddrMatch> src;
  std::optional<AddrMatch> dst;
  std::optional<IfaceMatch> in;
  std::optional<IfaceMatch> out;
  Proto proto = Proto::Any;
  std::optional<std::uint16_t> dport;  // needs proto tcp/udp/sctp
  bool dst_type_local = false;         // -m addrtype --dst-type LOCAL (rev 1)
  std::optional<MarkMatch> mark;
  std::optional<CtStateMatch> ct;
  std::string comment;  // -m comment; ≤ 255 bytes (longer is truncated)
  Target target = Verdict{"RETURN"};
};

// Byte layout (matches in this order: proto match, addrtype, mark, conntrack, comment). Throws tether::Error
// on an inconsistent spec (family mismatch, dport without protocol, interface name too long).
EntryBuffer build_entry(const RuleSpec& spec);

// "-A <chain> -s 10.0.0.2/32 ... -j MASQUERADE", as iptables-legacy-save prints it.
std::string to_save_line(const std::string& chain, const RuleSpec& spec);

}  // namespace tether::iptables
