#pragma once
// The netfilter half of tether, independent of the backend that writes it (libiptc or nftables).
// Everything is keyed by the attachment (network, containerID, ifname) so that DEL and GC never
// need the netns, the interface or prevResult.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/ip.hpp"
#include "lib/net/mac.hpp"
#include "lib/net/port_mapping.hpp"

namespace tether::firewall {

struct AttachmentKey {
  std::string network;
  std::string container_id;
  std::string ifname;
};

using PortMapping = net::PortMapping;

// Everything a backend installs for one attachment (the name is historical: it also carries the
// MAC spoof check).
struct NatPlan {
  AttachmentKey key;
  bool ip_masq = false;
  std::vector<net::IpPrefix> container_ips;  // container address with its subnet prefix
  std::vector<PortMapping> port_mappings;    // validated when parsed
  // macspoofchk: frames entering the bridge from `host_ifname` (the host end of the container's
  // veth) whose source MAC is not `spoof_check_mac` are dropped. nftables backend only.
  std::string host_ifname;
  std::optional<net::Mac> spoof_check_mac;
  bool empty() const { return !ip_masq && port_mappings.empty() && !spoof_check_mac; }
  // True when IPv4 host ports are DNATed to the container: 127.0.0.1 is then DNATed too, which
  // the kernel routes only with route_localnet on the interface toward it (the caller's job).
  bool needs_route_localnet() const;
  // The UDP host ports mapped for `family`, sorted and unique (their stale flows are flushed).
  std::vector<std::uint16_t> udp_host_ports(net::Family family) const;
};

// A routed network's FORWARD accepts (replies to its containers, their own traffic, DNATed
// traffic to published ports), for hosts whose FORWARD policy drops (Docker sets it). Per
// network, not per attachment: the caller ensures them with its attachments and removes them
// with the last one.
struct ForwardPlan {
  std::string network;
  std::string bridge;
  std::vector<net::IpPrefix> subnets;  // host bits cleared
};

enum class Backend { Iptables, Nftables };
const char* backend_name(Backend b);  // "iptables" / "nftables"

class Firewall {
 public:
  virtual ~Firewall() = default;
  // Installs the rules for plan.key (replacing any earlier ones for the same key).
  // One transaction per call where the backend allows. Lock timeout → code 11.
  virtual void add(const NatPlan& plan) = 0;
  // Removes every rule and chain of `key`; nothing there is success. Repeatable.
  virtual void del(const AttachmentKey& key) = 0;
  // Throws (code 999 unless more specific) naming what is missing.
  virtual void check(const NatPlan& plan) = 0;
  // Removes the rules of every attachment of `network` not in `valid` (only container_id/ifname are read).
  virtual void gc(const std::string& network, const std::vector<AttachmentKey>& valid) = 0;

  // FORWARD accepts, in the tables of this backend's kind that exist on the host (never creating
  // one just to accept into it: no table, no drop there). Idempotent; what is present is kept.
  virtual void ensure_forward(const ForwardPlan& plan) = 0;
  // Removes `network`'s accepts; nothing there is success.
  virtual void remove_forward(const std::string& network) = 0;
  // Throws (code 999) naming what is missing where the accepts belong.
  virtual void check_forward(const ForwardPlan& plan) = 0;

  // add(plan) and ensure_forward(forward) as one transaction where the backend allows
  // (nftables: one batch); otherwise one after the other, the plan's rules removed again when the
  // accepts fail.
  virtual void add_with_forward(const NatPlan& plan, const ForwardPlan& forward);
  // del(key) and remove_forward(key.network), for the network's last attachment, as one
  // transaction where the backend allows (nftables: one batch); otherwise one after the other.
  virtual void del_with_forward(const AttachmentKey& key);
};

}  // namespace tether::firewall
