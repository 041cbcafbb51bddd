#pragma once
// The bridge plugin's configuration (the keys of containernetworking/plugins `bridge`), validated
// into a BridgePlan before any syscall. Every failure is code 7 naming key, value and reason.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/cni/skel.hpp"
#include "lib/net/mac.hpp"
#include "lib/netlink/bridge_port.hpp"

namespace tether::plugin {

inline constexpr const char* kDefaultBridge = "tether0";
inline constexpr const char* kDefaultStateDir = "/run/tether";  // gone at reboot, like the rules

// `firewallBackend` (the reference bridge's `ipMasqBackend` is read as the same key).
enum class BackendChoice { Auto, Iptables, Nftables };

struct BridgePlan {
  std::string network;  // conf.name
  std::string bridge = kDefaultBridge;
  bool is_gateway = false;
  bool is_default_gateway = false;  // implies is_gateway
  bool force_address = false;
  bool ip_masq = false;
  std::optional<std::uint32_t> mtu;  // 68..65535; unset/0 = kernel default
  bool hairpin = false;
  bool promisc = false;
  int vlan = 0;  // 0 = none
  std::vector<netlink::VlanRange> vlan_trunk;
  bool preserve_default_vlan = false;
  bool enable_dad = false;
  bool disable_container_interface = false;
  bool port_isolation = false;
  std::string ipam_type;                        // "" = L2 only (`ipam: {}` or absent)
  std::optional<net::Mac> mac;                  // container MAC (unicast)
  std::vector<cni::PortMapping> port_mappings;  // only with capabilities.portMappings
  BackendChoice firewall_backend = BackendChoice::Auto;
  std::string state_dir = kDefaultStateDir;  // `stateDir`: firewall state for `tether firewall-reload`
  bool forward_accept = true;                // `forwardAccept`: FORWARD accepts + firewalld trust

  bool uses_vlans() const { return vlan != 0 || !vlan_trunk.empty(); }
  bool mac_spoof_check = false;  // `macspoofchk` (nftables backend only)
  // Anything for a firewall backend to install for the attachment itself.
  bool needs_nat() const { return ip_masq || !port_mappings.empty() || mac_spoof_check; }
  // A network that routes (its containers reach beyond the bridge) needs forwarding allowed on
  // hosts whose FORWARD policy drops (Docker sets it) or whose firewalld does not trust it.
  bool needs_forward() const { return forward_accept && (is_gateway || ip_masq); }
};

// What the plan is for. Teardown (DEL, GC) skips the checks that refuse what ADD cannot build
// (unsupported keys and combinations, a bad MAC): such an ADD created nothing, so the runtime's DEL
// that follows must still succeed. Malformed values (wrong JSON types) fail either way.
enum class PlanUse { Setup, Teardown };

// Reads conf.raw (+ CNI_ARGS for MAC=). Throws tether::Error code 7 (CNI_ARGS problems: code 7 too,
// naming "CNI_ARGS MAC").
BridgePlan build_bridge_plan(const cni::Request& req, PlanUse use = PlanUse::Setup);

}  // namespace tether::plugin
