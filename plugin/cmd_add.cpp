// ADD as a plan, then a list of named steps. The constructor validates everything that can be
// validated before the host changes (bridge keys, an in-process IPAM's config, the firewall
// backend); each step's mutation then pushes its inverse on the UndoStack right after it
// succeeds, and the stack is committed only at the end, so any failure unwinds every step already
// done before the error is returned.
#include "lib/cni/error.hpp"
#include "lib/cni/prev_result_merge.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/log/log.hpp"
#include "lib/netlink/addr.hpp"
#include "lib/netlink/bridge_port.hpp"
#include "lib/netlink/devconf.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netlink/nl_error.hpp"
#include "lib/netlink/route.hpp"
#include "lib/netns/netns.hpp"
#include "lib/util/undo_stack.hpp"
#include "plugin/container_setup.hpp"
#include "plugin/firewall_plan.hpp"
#include "plugin/firewall_state.hpp"
#include "plugin/host_setup.hpp"
#include "plugin/ipam_client.hpp"
#include "plugin/network_forward.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {
namespace {

using netlink::LinkInfo;
using netlink::RtnlSocket;

class AddRun {
 public:
  AddRun(const cni::Request& req, const Deps& deps)
      : req_(req),
        deps_(deps),
        plan_(build_bridge_plan(req)),
        ipam_(plan_, req),
        backend_(plan_.needs_nat() ? backend_for(plan_) : firewall::Backend::Iptables),
        firewall_(plan_.needs_nat() ? open_backend(deps, backend_) : nullptr),
        state_(plan_.state_dir),
        ns_(netns::Netns::open(req.env.netns, "CNI_NETNS")),
        host_(RtnlSocket::open()),
        ctr_(RtnlSocket::open_in(ns_)) {}

  cni::Result run() {
    setup_bridge();
    setup_veth();
    request_addresses();
    setup_firewall();
    configure_container(ns_, ctr_, veth_.container, res_, plan_);
    setup_gateway();
    cni::Result out = build_result();
    cni::ensure_expressible(out, req_.conf.version);  // printing fails after commit otherwise
    undo_.commit();
    return out;
  }

 private:
  bool bridge_created_ = false;

  void setup_bridge() {
    netlink::EnsuredBridge br;
    try {
      br = netlink::ensure_bridge(host_, {plan_.bridge, plan_.mtu, plan_.promisc});
    } catch (const netlink::NotABridgeError& e) {
      cni::invalid_config("bridge", std::string("value '") + plan_.bridge + "': " + e.what());
    }
    bridge_ = br.link;
    bridge_created_ = br.created;
    if (br.created) {
      // Only the creator removes it, and only while no other container has joined it.
      // The index is captured by value: a later re-ensure may point bridge_ at another creator's bridge.
      undo_.push("delete bridge " + bridge_.name, [this, index = bridge_.index] {
        if (!bridge_has_ports(host_, index)) netlink::delete_link(host_, index);
      });
    }
    if (br.created) disable_accept_ra(bridge_.name);
    if (plan_.uses_vlans()) netlink::enable_vlan_filtering(host_, bridge_.index, bridge_.name);
  }

  void setup_veth() {
    netlink::VethSpec spec;
    spec.container_ifname = req_.env.ifname;
    spec.container_netns_fd = ns_.fd();
    spec.master = bridge_.index;
    spec.mtu = plan_.mtu;
    spec.container_mac = plan_.mac;
    try {
      veth_ = netlink::create_veth(host_, ctr_, spec);
    } catch (const netlink::NlError&) {
      if (netlink::find_link(host_, bridge_.index)) throw;
      // The ADD that created the bridge failed and removed it again (no ports yet) between our
      // ensure_bridge and this request (EINVAL: unknown master). Ensure it once more.
      log::info("bridge " + bridge_.name + " vanished before the veth was attached, ensuring it again");
      setup_bridge();
      spec.master = bridge_.index;
      veth_ = netlink::create_veth(host_, ctr_, spec);
    }
    // Deleting one end removes both.
    undo_.push("delete veth " + veth_.host.name, [this] { netlink::delete_link(host_, veth_.host.index); });
    const int port = veth_.host.index;
    // A bridge port needs no IPv6 address of its own. Without one the host end sends no DAD, MLD
    // or router solicitations (flooded to every port) and adds no fe80::/64 route: costs that grow
    // with each container on the node. Set while it is still down, then bring it up (before the
    // container end, so the container's gratuitous ARP at link-up finds a carrier).
    netlink::LinkAfChange no_link_local;
    no_link_local.ipv6_no_link_local = true;
    netlink::change_link_af(host_, port, no_link_local);
    netlink::set_link_up(host_, port);
    if (plan_.hairpin) netlink::set_port_hairpin(host_, port, true);
    if (plan_.port_isolation) netlink::set_port_isolated(host_, port, true);
    if (plan_.uses_vlans())
      netlink::set_port_vlans(host_, port, {plan_.vlan, plan_.vlan_trunk, plan_.preserve_default_vlan});
  }

  void request_addresses() {
    if (ipam_.empty()) return;
    res_ = ipam_.run();
    undo_.push("release IPAM lease", [this] { ipam_del(plan_, req_); });
    if (res_.ips.empty())
      throw Error("IPAM plugin '" + plan_.ipam_type + "' returned no IP configuration", cni::kInternal);
    complete_gateways(res_, plan_);
    // Checked once per bridge (when this ADD created it): a route dump on every ADD would cost
    // more than the rest of the host side at scale.
    if (bridge_created_) warn_on_overlapping_host_routes();
  }

  // A container subnet that overlaps a route the host already has (another interface, a VPN)
  // works locally but misroutes some traffic: allowed, with a warning naming both.
  void warn_on_overlapping_host_routes() {
    for (const auto& ip : res_.ips) {
      const net::IpPrefix subnet = ip.address.network();
      for (const auto& r : netlink::list_routes(host_, subnet.family())) {
        if (r.dst.length() == 0 || r.oif == bridge_.index || !r.dst.overlaps(subnet)) continue;
        log::warn("container subnet " + subnet.to_string() + " overlaps the host route " + r.dst.to_string() +
                  " (ifindex " + std::to_string(r.oif) + "): some traffic may be misrouted");
      }
    }
  }

  void setup_gateway() {
    // Routed traffic (gateway) and masqueraded traffic both need forwarding on the host.
    if (plan_.is_gateway || plan_.ip_masq) enable_forwarding(host_, res_);
    if (!plan_.is_gateway) return;
    auto added = ensure_gateway_addresses(host_, bridge_, res_, plan_);
    if (!added.empty()) {
      // Other containers may already route through it: remove only if no one else is on the bridge.
      undo_.push("remove gateway addresses", [this, added] {
        if (bridge_has_ports(host_, bridge_.index, veth_.host.index)) return;
        for (const auto& a : added) netlink::delete_address(host_, bridge_.index, a);
      });
    }
  }

  void setup_firewall() {
    const bool forward = plan_.needs_forward() && !res_.ips.empty();
    if (!firewall_ && !forward) return;
    firewall::NatPlan nat = make_nat_plan(req_, plan_, res_);
    if (plan_.mac_spoof_check) {
      nat.host_ifname = veth_.host.name;
      nat.spoof_check_mac = net::parse_mac(veth_.container.mac);
    }
    // DNAT of 127.0.0.1 to the container needs route_localnet on the interface toward it.
    if (firewall_ && nat.needs_route_localnet() && !netlink::route_localnet_enabled(host_, bridge_.index)) {
      netlink::LinkAfChange localnet;
      localnet.route_localnet = 1;
      netlink::change_link_af(host_, bridge_.index, localnet);
    }
    // The state first (a reload re-creates only what it records), under the state lock until
    // this ADD is over, rolled back included (a reload never sees it half done).
    state_lock_ = state_.lock(sys::LockMode::kShared);
    const firewall::ForwardPlan fwd = forward_plan(plan_.network, bridge_.name, nat.container_ips);
    {
      const sys::FileLock network = state_.network_lock(plan_.network);
      const bool first = !state_.network_has_attachments(plan_.network);
      state_.save({nat, backend_, bridge_.name, forward});
      undo_.push("remove firewall state", [this, forward, fwd] {
        const sys::FileLock network = state_.network_lock(plan_.network);
        state_.remove(attachment_key(req_));
        if (forward && !state_.network_has_attachments(plan_.network)) remove_network_forward(deps_, fwd);
      });
      // The NAT backend writes its accepts with the NAT (nftables: one batch, which also creates
      // our table, home of its own accepts); the other backend's tables get theirs after.
      std::optional<firewall::Backend> written;
      if (firewall_) {
        if (forward)
          firewall_->add_with_forward(nat, fwd);
        else
          firewall_->add(nat);
        undo_.push("remove NAT rules", [this] { firewall_->del(attachment_key(req_)); });
        written = backend_;
      }
      if (forward) ensure_network_forward(deps_, fwd, first, written);
    }
  }

  cni::Result build_result() {
    auto interface = [](const LinkInfo& l, const std::string& sandbox) {
      cni::Interface i;
      i.name = l.name;
      i.mac = l.mac;
      i.mtu = l.mtu;
      i.sandbox = sandbox;
      return i;
    };
    // The veths' MACs were final at creation, and so is a bridge's we created (pinned). A bridge
    // we adopted may have followed its new port's MAC: re-read it.
    LinkInfo bridge = bridge_;
    if (!bridge_created_)
      if (auto now = netlink::find_link(host_, bridge_.index)) bridge = *now;
    cni::Result out = res_;
    out.interfaces = {interface(bridge, ""), interface(veth_.host, ""), interface(veth_.container, req_.env.netns)};
    for (auto& ip : out.ips) ip.interface = 2;
    if (!req_.conf.dns.empty()) out.dns = req_.conf.dns;
    // Chained after another plugin: pass its result on with ours appended (spec: never drop it).
    // Our DNS (the config's, else IPAM's) replaces its DNS field by field (prev_result_merge.hpp).
    if (req_.conf.prev_result) return cni::merge_into_prev_result(*req_.conf.prev_result, out);
    return out;
  }

  const cni::Request& req_;
  const Deps& deps_;
  BridgePlan plan_;
  IpamAdd ipam_;
  firewall::Backend backend_;
  std::unique_ptr<firewall::Firewall> firewall_;  // null: no NAT work
  StateDir state_;
  std::optional<sys::FileLock> state_lock_;  // released after undo_ below has run
  netns::Netns ns_;
  RtnlSocket host_;
  RtnlSocket ctr_;
  LinkInfo bridge_;
  netlink::VethPair veth_;
  cni::Result res_;
  util::UndoStack undo_;  // last member: unwinds first, while the sockets above are still open
};

}  // namespace

cni::Result cmd_add(const cni::Request& req, const Deps& deps) { return AddRun(req, deps).run(); }

}  // namespace tether::plugin
