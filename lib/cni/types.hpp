#pragma once
// The internal CNI model, always at spec 1.1.0. Printing to older versions and parsing from any
// version live in result_json.hpp; config parsing in conf.hpp.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/cni/version.hpp"
#include "lib/net/ip.hpp"
#include "lib/net/port_mapping.hpp"

namespace tether::cni {

using json = nlohmann::json;

struct Interface {
  std::string name;
  std::string mac;                   // "" = absent
  std::optional<std::uint32_t> mtu;  // 1.1
  std::string sandbox;               // netns path for container interfaces
  std::string socket_path;           // 1.1
  std::string pci_id;                // 1.1
  bool operator==(const Interface&) const = default;
};

struct IpConfig {
  net::IpPrefix address;  // host address with prefix, e.g. 10.0.0.5/24
  std::optional<net::IpAddress> gateway;
  std::optional<int> interface;  // index into Result::interfaces
  bool operator==(const IpConfig&) const = default;
};

struct Route {
  net::IpPrefix dst;
  std::optional<net::IpAddress> gw;
  std::optional<int> mtu, advmss, priority, table, scope;  // 1.1
  bool operator==(const Route&) const = default;
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;
  bool empty() const { return nameservers.empty() && domain.empty() && search.empty() && options.empty(); }
  bool operator==(const Dns&) const = default;
};

struct Result {
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Dns dns;
  bool operator==(const Result&) const = default;
};

using PortMapping = net::PortMapping;  // validated when parsed (conf.cpp)

struct Attachment {
  std::string container_id;
  std::string ifname;
  bool operator==(const Attachment&) const = default;
};

// The network configuration a plugin receives on stdin. Keys specific to one plugin (bridge's
// `mtu`, IPAM's `ranges`, ...) are read from `raw` / `ipam` by that plugin with json_field.hpp.
struct NetConf {
  std::string cni_version_text;  // as given ("" when absent)
  Version version;               // parsed; 0.1.0 when absent
  std::string name;
  std::string type;
  json raw = json::object();   // the whole stdin object, unknown keys included
  json ipam = json::object();  // the `ipam` object ({} when absent)
  Dns dns;
  bool ip_masq = false;
  std::map<std::string, bool> capabilities;

  struct RuntimeConfig {
    std::vector<PortMapping> port_mappings;
    json ip_ranges = json::array();  // host-local `ranges` shape, validated by IPAM
    std::vector<std::string> ips;
    std::string mac;
  } runtime_config;

  struct Args {  // args.cni
    std::vector<std::string> ips;
    std::string mac;
  } args;

  std::optional<Result> prev_result;  // converted up to 1.1.0
  // GC: `cni.dev/valid-attachments`, else legacy `cni.dev/attachments`. Neither given means none
  // is valid: libcni's GCNetworkList(ctx, list, nil) (what `cnitool gc` sends) omits the key after
  // DELing every cached attachment, and treats the missing list itself as "nothing is valid".
  std::vector<Attachment> valid_attachments;

  std::string log_file;   // `logFile`
  std::string log_level;  // `logLevel`
};

}  // namespace tether::cni
