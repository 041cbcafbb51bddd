#include "lib/netlink/raw_request.hpp"

#include <netlink/errno.h>
#include <netlink/netlink.h>

#include <cerrno>

#include "lib/netlink/nl_error.hpp"
#include "lib/util/fault.hpp"

namespace tether::netlink::detail {

MsgPtr link_request(int type, int family, int index, int flags) {
  MsgPtr msg(nlmsg_alloc_simple(type, flags));
  if (!msg) throw NlError("allocate netlink message", NLE_NOMEM, ENOMEM, {});
  ifinfomsg ifi{};
  ifi.ifi_family = static_cast<unsigned char>(family);
  ifi.ifi_index = index;
  check_put(nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO), "ifinfomsg");
  return msg;
}

int send_request(RtnlSocket& sk, MsgPtr msg) {
  fault::point("netlink: link request");  // every hand-built request changes state
  sk.clear_error();
  return nl_send_sync(sk.get(), msg.release());  // frees the message even on error
}

void check_put(int rc, const std::string& what) {
  if (rc < 0) throw NlError("build netlink request (" + what + ")", rc, 0, {});
}

}  // namespace tether::netlink::detail
