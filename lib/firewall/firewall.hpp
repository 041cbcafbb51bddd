#pragma once
// The netfilter half of tether, behind an interface so an nftables backend can sit beside the
// libiptc one. Everything is keyed by the attachment (network, containerID, ifname) so that DEL and
// GC never need the netns, the interface or prevResult.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/net/ip.hpp"

namespace tether::firewall {

struct AttachmentKey {
  std::string network;
  std::string container_id;
  std::string ifname;
};

struct PortMapping {
  std::uint16_t host_port = 0;
  std::uint16_t container_port = 0;
  std::string protocol = "tcp";  // tcp | udp | sctp
  std::string host_ip;           // "" = any; a v4 hostIP applies only to v4, v6 only to v6
};

struct NatPlan {
  AttachmentKey key;
  bool ip_masq = false;
  std::vector<net::IpPrefix> container_ips;  // container address with its subnet prefix
  std::vector<PortMapping> port_mappings;
  bool empty() const { return !ip_masq && port_mappings.empty(); }
};

class Firewall {
 public:
  virtual ~Firewall() = default;
  // Installs the rules for plan.key (replacing any earlier ones for the same key).
  // One commit per table touched. Lock timeout → code 11.
  virtual void add(const NatPlan& plan) = 0;
  // Removes every rule and chain of `key`; nothing there is success. Repeatable.
  virtual void del(const AttachmentKey& key) = 0;
  // Throws (code 999 unless more specific) naming what is missing.
  virtual void check(const NatPlan& plan) = 0;
  // Removes the rules of every attachment of `network` not in `valid` (only container_id/ifname are read).
  virtual void gc(const std::string& network, const std::vector<AttachmentKey>& valid) = 0;
};

// libiptc backend (legacy x_tables), v4 and v6.
std::unique_ptr<Firewall> make_iptables_firewall();

}  // namespace tether::firewall
