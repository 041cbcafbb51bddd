#pragma once
// Internal to lib/netlink: hand-built rtnetlink requests for what libnl 3.7 lacks (bridge
// vlan_filtering, port isolation, port VLANs). One request, one wait for its ACK.
#include <linux/rtnetlink.h>

#include <string>

#include "lib/netlink/c_ptr.hpp"
#include "lib/netlink/socket.hpp"

namespace tether::netlink::detail {

// RTM_* request with an ifinfomsg header for `index` in `family`.
MsgPtr link_request(int type, int family, int index, int flags = 0);
// Sends and waits for the ACK; returns the libnl code (errno captured in sk). Frees the message.
int send_request(RtnlSocket& sk, MsgPtr msg);
// Throws std::bad_alloc-like NlError when an nla_put failed (message too small).
void check_put(int rc, const std::string& what);

}  // namespace tether::netlink::detail
