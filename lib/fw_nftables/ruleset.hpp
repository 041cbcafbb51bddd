#pragma once
// What the nftables backend writes, as plain lib/nftables objects (pure: no kernel calls). One
// table per family, `ip tether` and `ip6 tether`:
//
//   map hostports        { type inet_proto . inet_service : verdict }             proto . port
//   map hostip_hostports { type ipv4_addr . inet_proto . inet_service : verdict } hostIP . proto . port
//   map masq             { type ipv4_addr : verdict }                             container IP
//   chain prerouting  (nat, dstnat)   fib daddr type local ip daddr . meta l4proto . th dport vmap @hostip_hostports
//   chain output      (nat, -100)     fib daddr type local meta l4proto . th dport vmap @hostports
//   chain postrouting (nat, srcnat)   oifname != "lo" ip saddr 127.0.0.0/8 masquerade     (v4 only)
//                                     oifname != "lo" meta mark & 0x2000 == 0x2000 masquerade   (hairpin)
//                                     ip daddr 224.0.0.0/4 return                          (v6 ff00::/8)
//                                     ip saddr vmap @masq
//   chain att-<hash>-dnat   ip saddr <subnet> meta mark set meta mark | 0x2000       hairpin mark
//                           [ip daddr <hostIP>] meta l4proto P th dport HP dnat to CIP:CP   per mapping
//   chain att-<hash>-masq   ip saddr <CIP> ip daddr != <subnet> masquerade
//
// macspoofchk (optional, separate call) lives in `bridge tether`:
//   map macspoof { type ifname : verdict }                                       host veth name
//   chain prerouting (filter, -300)   iifname vmap @macspoof
//   chain att-<hash>-mac   iifname "<host veth>" ether saddr != <container MAC> drop
//
// Elements map an attachment's ports and addresses to `goto att-<hash>-…`, so a packet (and an
// ADD) never walks other containers' rules. Every attachment object carries
// attachment_comment(key) (naming.hpp): network, container ID and ifname in clear text.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/nftables/objects.hpp"
#include "lib/nftables/reader.hpp"

namespace tether::firewall::nft {

using nftables::Family;

inline constexpr const char* kTable = "tether";
inline constexpr const char* kTableComment = "managed by tether";
inline constexpr const char* kHostportsMap = "hostports";
inline constexpr const char* kHostIpHostportsMap = "hostip_hostports";
inline constexpr const char* kMasqMap = "masq";
inline constexpr const char* kMacspoofMap = "macspoof";
inline constexpr Family kNatFamilies[] = {Family::Ip, Family::Ip6};
inline constexpr Family kAllFamilies[] = {Family::Ip, Family::Ip6, Family::Bridge};

enum class ChainKind { Dnat, Masq, Mac };
// The attachment chains a family can hold.
std::vector<ChainKind> chain_kinds(Family family);
// The maps of a family's skeleton.
std::vector<std::string> map_names(Family family);
std::string attachment_chain(const std::string& attachment_hash, ChainKind kind);  // "att-<hash>-dnat"
struct ParsedChainName {
  std::string attachment_hash;
  ChainKind kind;
};
std::optional<ParsedChainName> parse_attachment_chain(const std::string& name);

struct Skeleton {
  nftables::Table table;
  std::vector<nftables::Set> maps;
  std::vector<nftables::Chain> base_chains;
  std::vector<nftables::Rule> rules;  // of the base chains, in order
};
Skeleton skeleton(Family family);
// Objects the skeleton holds (the table's use count with no attachment left).
std::size_t skeleton_objects(Family family);

struct AttachmentObjects {
  Family family = Family::Ip;
  std::vector<nftables::Chain> chains;      // att-<hash>-dnat and/or att-<hash>-masq
  std::vector<nftables::Rule> rules;        // in order
  std::vector<nftables::Element> elements;
  std::vector<std::uint16_t> udp_host_ports;
};
// One entry per family the plan has work in. Throws tether::Error code 7 for an invalid mapping.
std::vector<AttachmentObjects> attachment_objects(const NatPlan& plan);

// macspoofchk of one attachment: frames from the host end of its veth must carry its MAC.
struct MacSpoofPlan {
  AttachmentKey key;
  std::string host_ifname;  // host end of the container's veth
  std::string mac;          // "02:42:ac:11:00:02"
};
// Throws tether::Error code 7 for a bad interface name or MAC.
AttachmentObjects macspoof_objects(const MacSpoofPlan& plan);

// The element an attachment rule (as read back from att-<hash>-<kind>) implies: the hostports /
// hostip_hostports key of a DNAT rule, the masq key of a masquerade rule; nullopt for others
// (the hairpin mark). `udp_port` is set for a UDP DNAT rule.
struct ImpliedElement {
  nftables::Element element;
  std::optional<std::uint16_t> udp_port;
};
std::optional<ImpliedElement> element_of_rule(Family family, const std::string& chain, ChainKind kind,
                                              const std::vector<nftables::Statement>& rule);

}  // namespace tether::firewall::nft
