#include "plugin/config.hpp"

#include "lib/cni/args.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/json_field.hpp"
#include "lib/net/mac.hpp"

namespace tether::plugin {
namespace {

using cni::invalid_config;
using cni::json;

bool flag(const json& raw, const char* key) { return cni::get_bool(raw, "", key).value_or(false); }

// Normalizes a MAC from `key`; multicast (and so broadcast) addresses are refused: the kernel would
// answer EADDRNOTAVAIL only after the veth work.
net::Mac checked_mac(const std::string& text, const std::string& key) {
  auto mac = net::parse_mac(text);
  if (!mac) invalid_config(key, "value '" + text + "': not a MAC address (expected aa:bb:cc:dd:ee:ff)");
  if (net::is_multicast(*mac)) invalid_config(key, "value '" + text + "': must be a unicast MAC address");
  return *mac;
}

int vlan_id(const json& obj, const std::string& path, const char* key) {
  auto v = cni::get_int(obj, path, key, 1, 4094);
  return v ? static_cast<int>(*v) : 0;
}

std::vector<netlink::VlanRange> parse_trunk(const json& raw) {
  std::vector<netlink::VlanRange> out;
  const json* arr = cni::get_array(raw, "", "vlanTrunk");
  if (!arr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string path = "vlanTrunk[" + std::to_string(i) + "]";
    const json& e = (*arr)[i];
    if (!e.is_object()) invalid_config(path, "value " + e.dump() + ": expected an object {id} or {minID, maxID}");
    int id = vlan_id(e, path, "id");
    int lo = vlan_id(e, path, "minID");
    int hi = vlan_id(e, path, "maxID");
    if (id) out.push_back({id, id});
    if ((lo == 0) != (hi == 0)) invalid_config(path, "minID and maxID must be given together");
    if (lo) {
      if (lo > hi) invalid_config(path, "minID " + std::to_string(lo) + " is greater than maxID " + std::to_string(hi));
      out.push_back({lo, hi});
    }
    if (!id && !lo) invalid_config(path, "value " + e.dump() + ": needs 'id' or 'minID'/'maxID'");
  }
  return out;
}

void parse_bridge_keys(const json& raw, BridgePlan& p, bool refuse) {
  if (auto br = cni::get_string(raw, "", "bridge"); br && !br->empty()) {
    if (!cni::valid_ifname(*br))
      invalid_config("bridge", "value '" + *br +
                                   "': not a valid interface name (1-15 characters, no '/', ':' "
                                   "or whitespace)");
    p.bridge = *br;
  }
  p.is_default_gateway = flag(raw, "isDefaultGateway");
  p.is_gateway = flag(raw, "isGateway") || p.is_default_gateway;
  p.force_address = flag(raw, "forceAddress");
  if (auto mtu = cni::get_int(raw, "", "mtu", 0, 65535); mtu && *mtu != 0) {
    if (*mtu < 68 && refuse) invalid_config("mtu", "value " + std::to_string(*mtu) + ": must be between 68 and 65535");
    p.mtu = static_cast<std::uint32_t>(*mtu);
  }
  p.hairpin = flag(raw, "hairpinMode");
  p.promisc = flag(raw, "promiscMode");
  if (p.hairpin && p.promisc && refuse)
    invalid_config("hairpinMode", "value true: cannot be combined with promiscMode true (choose one)");
  if (auto v = cni::get_int(raw, "", "vlan", 0, 4094)) p.vlan = static_cast<int>(*v);
  p.vlan_trunk = parse_trunk(raw);
  p.preserve_default_vlan = flag(raw, "preserveDefaultVlan");
  if (p.vlan && p.is_gateway && refuse)
    invalid_config("vlan", "value " + std::to_string(p.vlan) +
                               ": a VLAN together with isGateway (gateway on a VLAN sub-interface) is not "
                               "supported by tether");
  p.enable_dad = flag(raw, "enabledad");
  p.forward_accept = cni::get_bool(raw, "", "forwardAccept").value_or(true);
  p.disable_container_interface = flag(raw, "disableContainerInterface");
  p.port_isolation = flag(raw, "portIsolation");
  p.mac_spoof_check = flag(raw, "macspoofchk");
}

std::optional<BackendChoice> backend_choice(const json& raw, const char* key) {
  const auto text = cni::get_string(raw, "", key);
  if (!text || text->empty()) return std::nullopt;
  if (*text == "auto") return BackendChoice::Auto;
  if (*text == "iptables") return BackendChoice::Iptables;
  if (*text == "nftables") return BackendChoice::Nftables;
  invalid_config(key, "value '" + *text + "': must be 'auto', 'iptables' or 'nftables'");
}

// `firewallBackend`, or the reference's `ipMasqBackend` (same values but `auto`); both given must agree.
BackendChoice parse_backend(const json& raw) {
  const auto own = backend_choice(raw, "firewallBackend");
  const auto reference = backend_choice(raw, "ipMasqBackend");
  if (own && reference && *own != *reference)
    invalid_config("firewallBackend", "value '" + *cni::get_string(raw, "", "firewallBackend") +
                                          "' contradicts ipMasqBackend '" + *cni::get_string(raw, "", "ipMasqBackend") +
                                          "' (they name the same setting: give one, or the same value)");
  return own ? *own : reference.value_or(BackendChoice::Auto);
}

void parse_ipam(const cni::NetConf& conf, BridgePlan& p, bool refuse) {
  if (!conf.ipam.is_object() || conf.ipam.empty()) return;  // `ipam: {}` = L2 only
  auto type = cni::get_string(conf.ipam, "ipam", "type");
  if (!type || type->empty())
    invalid_config("ipam.type", "missing: an ipam object needs a type (or use {} for L2 only)");
  // The plugin as its own IPAM (a typo for tether-ipam) would delegate to itself for ever.
  if (*type == conf.type || *type == "tether") {
    if (refuse)
      invalid_config("ipam.type", "value '" + *type + "': names this plugin itself (did you mean 'tether-ipam'?)");
    return;  // such an ADD allocated nothing: DEL and GC have no IPAM to call
  }
  p.ipam_type = *type;
  if (p.disable_container_interface && refuse)
    invalid_config("disableContainerInterface",
                   "value true: cannot be used with IPAM (ipam.type '" + *type + "'): addresses need the interface up");
}

// Later sources win: CNI_ARGS MAC=, then args.cni.mac, then runtimeConfig.mac.
void parse_mac(const cni::Request& req, BridgePlan& p) {
  if (!req.env.args.empty()) {
    if (auto m = cni::parse_cni_args(req.env.args).get("MAC"); m && !m->empty())
      p.mac = checked_mac(*m, "CNI_ARGS MAC");
  }
  if (!req.conf.args.mac.empty()) p.mac = checked_mac(req.conf.args.mac, "args.cni.mac");
  if (!req.conf.runtime_config.mac.empty()) p.mac = checked_mac(req.conf.runtime_config.mac, "runtimeConfig.mac");
}

}  // namespace

BridgePlan build_bridge_plan(const cni::Request& req, PlanUse use) {
  const cni::NetConf& conf = req.conf;
  const bool refuse = use == PlanUse::Setup;
  BridgePlan p;
  p.network = conf.name;
  p.ip_masq = conf.ip_masq;
  parse_bridge_keys(conf.raw, p, refuse);
  if (refuse) p.firewall_backend = parse_backend(conf.raw);  // DEL and GC sweep every backend
  if (auto dir = cni::get_string(conf.raw, "", "stateDir"); dir && !dir->empty()) {
    if ((*dir)[0] != '/' || dir->find("/../") != std::string::npos || dir->ends_with("/.."))
      invalid_config("stateDir", "value '" + *dir + "': must be an absolute path without '..'");
    p.state_dir = *dir;
  }
  parse_ipam(conf, p, refuse);
  if (refuse) parse_mac(req, p);  // the MAC matters only when creating the interface
  // The runtime sends runtimeConfig.portMappings only to a plugin that declared the capability, and
  // the spec says it removes `capabilities` from the request (libcni leaves it in). So: with no
  // `capabilities` key the runtime already filtered, trust runtimeConfig; with one, it must
  // declare portMappings.
  const auto it = conf.capabilities.find("portMappings");
  if (!conf.raw.contains("capabilities") || (it != conf.capabilities.end() && it->second))
    p.port_mappings = conf.runtime_config.port_mappings;
  return p;
}

}  // namespace tether::plugin
