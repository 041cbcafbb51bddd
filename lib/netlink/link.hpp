#pragma once
// Link operations through an RtnlSocket (each acts in the socket's netns).
//   find_*   → std::optional (absent is not an error)
//   ensure_* → idempotent create-or-verify, safe against concurrent creators
//   delete_* → missing is success (returns false)
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/net/mac.hpp"
#include "lib/netlink/socket.hpp"
#include "lib/util/error.hpp"

namespace tether::netlink {

using net::Mac;
Mac random_mac();  // locally administered, unicast

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;        // "bridge", "veth", "" (lo, physical)
  std::string slave_kind;  // "bridge" for a bridge port
  int master = 0;          // ifindex of the master, 0 = none
  int peer_index = 0;      // IFLA_LINK (a veth's peer ifindex, in the peer's netns)
  std::uint32_t mtu = 0;
  std::string mac;  // formatted; "" when the link has none
  bool up = false;
  bool promisc = false;
};

std::optional<LinkInfo> find_link(RtnlSocket& sk, const std::string& name);
std::optional<LinkInfo> find_link(RtnlSocket& sk, int index);
std::vector<LinkInfo> list_links(RtnlSocket& sk);

struct BridgeSpec {
  std::string name;
  std::optional<std::uint32_t> mtu;  // only applied at creation
  bool promisc = false;
};
struct EnsuredBridge {
  LinkInfo link;
  bool created = false;  // true only for the caller whose request created it
};
// ensure_bridge's refusal to adopt a link of another kind; callers map it to a config error.
class NotABridgeError : public Error {
 public:
  using Error::Error;
};

// Creates the bridge UP with a pinned random MAC (so it never follows its ports' MACs) or adopts an
// existing bridge (brought up, promisc set if asked). EEXIST from a concurrent creator is tolerated;
// an existing link of that name that is not a bridge throws NotABridgeError.
EnsuredBridge ensure_bridge(RtnlSocket& sk, const BridgeSpec& spec);
// Turns on vlan_filtering. A kernel without CONFIG_BRIDGE_VLAN_FILTERING → error saying so.
void enable_vlan_filtering(RtnlSocket& sk, int bridge_index, const std::string& bridge_name);

struct VethSpec {
  std::string container_ifname;      // peer name, created in the container netns
  int container_netns_fd = -1;       // IFLA_NET_NS_FD for the peer
  int master = 0;                    // bridge ifindex for the host end
  std::optional<std::uint32_t> mtu;  // both ends
  std::optional<Mac> container_mac;
  int max_attempts = 10;  // host name clashes retried with a fresh veth%08x
};
struct VethPair {
  LinkInfo host;       // in the host socket's netns: master set, DOWN (configure, then set_link_up)
  LinkInfo container;  // in the container: DOWN
};
// One RTM_NEWLINK: host end primary (random "veth%08x", master, down), peer already in the container
// under its final name. An existing container_ifname is an error naming it; a host-name clash retries.
VethPair create_veth(RtnlSocket& host, RtnlSocket& container, const VethSpec& spec);

void set_link_up(RtnlSocket& sk, int index, bool up = true);
void set_link_promisc(RtnlSocket& sk, int index, bool on);
void set_link_mtu(RtnlSocket& sk, int index, std::uint32_t mtu);

// Missing (ENODEV, e.g. already gone with its netns) → false.
bool delete_link(RtnlSocket& sk, const std::string& name);
bool delete_link(RtnlSocket& sk, int index);

}  // namespace tether::netlink
