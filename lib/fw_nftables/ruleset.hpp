#pragma once
// What the nftables backend writes, as plain lib/nftables objects (pure: no kernel calls).
//
// A fixed skeleton per family, and per attachment nothing but set/map ELEMENTS carrying
// attachment_comment(key) (naming.hpp). No per-attachment chains, no verdict maps, no jumps:
// adding an element to a data map or a plain set never makes the kernel re-validate the
// table's chain graph (which a `goto` element or a jump rule does, at a cost growing with
// every attachment). Per-attachment elements live in hash sets only (O(1) to add, delete and
// look up); the one interval set (the kernel's pipapo, whose inserts and deletes cost O(set
// size)) holds one element per network subnet, not per attachment.
//
//   table ip tether {                                     (ip6: the same with ip6 types/fields)
//     map hostports        { type inet_proto . inet_service : ipv4_addr . inet_service }
//     map hostip_hostports { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service }
//     set masq        { type ipv4_addr }                              container IPs with ipMasq
//     set subnets     { type ipv4_addr . ipv4_addr; flags interval }  S . S per network subnet S
//     set attachments { type ifname }                                 one element per attachment
//     chain prerouting  (nat, dstnat)   fib daddr type local dnat ip to ip daddr . meta l4proto . th dport map @hostip_hostports
//                                       fib daddr type local dnat ip to meta l4proto . th dport map @hostports
//     chain output      (nat, -100)     the same two rules
//     chain postrouting (nat, srcnat)   oifname != "lo" ip saddr 127.0.0.0/8 masquerade       (v4 only)
//                                       ct status dnat ip saddr . ip daddr @subnets masquerade
//                                       ip daddr 224.0.0.0/4 return                             (v6: ff00::/8)
//                                       ip saddr . ip daddr @subnets return
//                                       ip saddr @masq masquerade
//   }
//   table bridge tether {                                 (macspoofchk)
//     set spoofcheck  { type ifname }                     host ends of checked veths
//     set allowed     { type ifname . ether_addr }        host veth . the container's MAC
//     set attachments { type ifname }
//     chain prerouting (filter, -300)   iifname @spoofcheck iifname . ether saddr != @allowed drop
//   }
//
// A dnat-map rule whose lookup misses does not match, so the hostIP rule falls through to the
// wildcard one: hostIP mappings win. `saddr . daddr @subnets` = both ends in one container
// subnet (subnets of different networks cannot overlap: the kernel refuses an overlapping
// element). Then a DNAT'ed connection is a hairpin (a container reaching a published port of
// its own subnet: masqueraded, or the answer would bypass the host), and any other one is
// local traffic (never masqueraded: ipMasq is for traffic leaving the subnet).
//
// `attachments` is the index ADD, DEL and GC start from: its key is the attachment hash cut to
// 15 hex digits (nft reads an ifname string of at most 15 characters back; `nft -f` must be able
// to reload a listing), its comment the full attachment comment. Ownership decisions always use
// the comment's full 64-bit hash; a 60-bit key collision can only make an ADD fail, never touch
// another attachment's elements. A `subnets` element carries network_rule_comment(network) and
// lives while an attachment of its network is in the table's index.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/nftables/objects.hpp"

namespace tether::firewall::nft {

using nftables::Family;

inline constexpr const char* kTable = "tether";
inline constexpr const char* kTableComment = "managed by tether";
inline constexpr const char* kHostportsMap = "hostports";
inline constexpr const char* kHostIpHostportsMap = "hostip_hostports";
inline constexpr const char* kMasqSet = "masq";
inline constexpr const char* kSubnetsSet = "subnets";
inline constexpr const char* kAttachmentsSet = "attachments";
inline constexpr const char* kSpoofcheckSet = "spoofcheck";
inline constexpr const char* kAllowedSet = "allowed";
inline constexpr Family kAllFamilies[] = {Family::Ip, Family::Ip6, Family::Bridge};

struct Skeleton {
  nftables::Table table;
  std::vector<nftables::Set> sets;
  std::vector<nftables::Chain> base_chains;
  std::vector<nftables::Rule> rules;  // of the base chains, in order
};
Skeleton skeleton(Family family);
// The names of a family's sets and maps (what DEL and GC read).
std::vector<std::string> set_names(Family family);
// Objects the skeleton holds (the table's use count when nobody else added anything).
std::size_t skeleton_objects(Family family);

struct AttachmentObjects {
  Family family = Family::Ip;
  std::vector<nftables::Element> elements;          // the attachment's own; front(): its index element
  std::vector<nftables::Element> network_elements;  // shared with the network's other attachments
  std::vector<std::uint16_t> udp_host_ports;
};
// One entry per family the plan has work in. Throws tether::Error kInvalidConfig for a plan the
// backend cannot express (a bad host interface name).
std::vector<AttachmentObjects> attachment_objects(const NatPlan& plan);

// The index element of an attachment in `family` (with its comment).
nftables::Element index_element(Family family, const AttachmentKey& key);

// The UDP host port an element of `set` publishes (its key), nullopt for any other element.
std::optional<std::uint16_t> udp_host_port(Family family, const std::string& set, const nftables::Bytes& key);

// "host port tcp . 8080 is already published" and the like, for an element of `set` that clashed.
std::string conflict_text(const std::string& set, const std::string& label);

}  // namespace tether::firewall::nft
