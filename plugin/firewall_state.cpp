#include "plugin/firewall_state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "lib/cni/env.hpp"
#include "lib/firewall/naming.hpp"
#include "lib/log/log.hpp"
#include "lib/sys/atomic_file.hpp"
#include "lib/sys/sys_error.hpp"
#include "lib/sys/unique_fd.hpp"
#include "lib/util/error.hpp"

namespace tether::plugin {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxStateBytes = 64 * 1024;
constexpr std::chrono::milliseconds kLockTimeout{30000};
constexpr const char* kSuffix = ".json";

std::string file_name(const firewall::AttachmentKey& key) { return firewall::attachment_hash(key) + kSuffix; }

[[noreturn]] void bad(const std::string& where, const std::string& what) {
  throw Error("firewall state '" + where + "': " + what, kDecodeFailure);
}

const json& field(const json& j, const char* key, json::value_t type, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || it->type() != type) bad(where, std::string("key '") + key + "' missing or of the wrong type");
  return *it;
}

std::string name_field(const json& j, const char* key, bool (*valid)(std::string_view), const std::string& where) {
  const std::string v = field(j, key, json::value_t::string, where).get<std::string>();
  if (!valid(v)) bad(where, std::string("key '") + key + "': value '" + cni::abbreviate(v) + "' is not a valid name");
  return v;
}

std::uint16_t port_field(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned() || *it < 1 || *it > 65535)
    bad(where, std::string("key '") + key + "' must be a port 1-65535");
  return it->get<std::uint16_t>();
}

firewall::PortMapping mapping_from(const json& m, const std::string& where) {
  if (!m.is_object()) bad(where, "portMappings entries must be objects");
  firewall::PortMapping pm;
  pm.host_port = port_field(m, "hostPort", where);
  pm.container_port = port_field(m, "containerPort", where);
  const auto proto = net::parse_l4proto(field(m, "protocol", json::value_t::string, where).get<std::string>());
  if (!proto) bad(where, "portMappings protocol must be tcp, udp or sctp");
  pm.protocol = *proto;
  if (const auto ip = m.find("hostIP"); ip != m.end()) {
    const auto addr = ip->is_string() ? net::IpAddress::parse(ip->get<std::string>()) : std::nullopt;
    if (!addr) bad(where, "portMappings hostIP is not an IP address");
    pm.host_ip = *addr;
  }
  return pm;
}

// Calls fn(name) for each directory entry that is not hidden ("." / "..", locks) or one of our
// temp files, until fn returns false. `chunk`: bytes of entries read per call.
template <class Fn>
void for_each_entry(const std::string& dir, Fn&& fn, std::size_t chunk = 32 * 1024) {
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno != ENOENT) log::warn("firewall state: cannot read '" + dir + "': " + std::strerror(errno));
    return;
  }
  // getdents64 itself, not readdir: readdir always asks for 32 KiB (hundreds of entries, which the
  // kernel walks and copies), and a lookup that stops at the first entry asks for a small chunk.
  std::vector<char> buf(chunk);
  for (;;) {
    const ssize_t n = ::getdents64(fd.get(), buf.data(), buf.size());
    if (n <= 0) {
      if (n < 0) log::warn("firewall state: cannot read '" + dir + "': " + std::strerror(errno));
      return;
    }
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf.data() + at);
      at += e->d_reclen;
      const std::string_view name = e->d_name;
      if (name.starts_with(".") || name.starts_with(sys::kTempPrefix)) continue;
      if (!fn(std::string(name))) return;
    }
  }
}

void make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST)
    sys::throw_errno("create firewall state directory '" + path + "'");
}

}  // namespace

bool AttachmentState::operator==(const AttachmentState& o) const {
  auto same_key = [](const firewall::AttachmentKey& a, const firewall::AttachmentKey& b) {
    return a.network == b.network && a.container_id == b.container_id && a.ifname == b.ifname;
  };
  return same_key(nat.key, o.nat.key) && nat.ip_masq == o.nat.ip_masq && nat.container_ips == o.nat.container_ips &&
         nat.port_mappings == o.nat.port_mappings && nat.host_ifname == o.nat.host_ifname &&
         nat.spoof_check_mac == o.nat.spoof_check_mac && backend == o.backend && bridge == o.bridge &&
         forward == o.forward;
}

std::string to_json(const AttachmentState& s) {
  json ips = json::array();
  for (const auto& ip : s.nat.container_ips) ips.push_back(ip.to_string());
  json mappings = json::array();
  for (const auto& m : s.nat.port_mappings) {
    json pm = {{"hostPort", m.host_port},
               {"containerPort", m.container_port},
               {"protocol", net::l4proto_name(m.protocol)}};
    if (m.host_ip) pm["hostIP"] = m.host_ip->to_string();
    mappings.push_back(std::move(pm));
  }
  json j = {{"network", s.nat.key.network},
            {"containerID", s.nat.key.container_id},
            {"ifname", s.nat.key.ifname},
            {"backend", firewall::backend_name(s.backend)},
            {"bridge", s.bridge},
            {"forward", s.forward},
            {"ipMasq", s.nat.ip_masq},
            {"ips", std::move(ips)},
            {"portMappings", std::move(mappings)}};
  if (s.nat.spoof_check_mac) {
    j["hostIfname"] = s.nat.host_ifname;
    j["spoofCheckMac"] = net::format_mac(*s.nat.spoof_check_mac);
  }
  return j.dump() + "\n";
}

AttachmentState from_json(const std::string& text, const std::string& where) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) bad(where, "not a JSON object (torn or foreign file)");
  AttachmentState s;
  s.nat.key.network = name_field(j, "network", cni::valid_name, where);
  s.nat.key.container_id = name_field(j, "containerID", cni::valid_name, where);
  s.nat.key.ifname = name_field(j, "ifname", cni::valid_ifname, where);
  const std::string backend = field(j, "backend", json::value_t::string, where).get<std::string>();
  if (backend == "iptables")
    s.backend = firewall::Backend::Iptables;
  else if (backend == "nftables")
    s.backend = firewall::Backend::Nftables;
  else
    bad(where, "key 'backend': value '" + cni::abbreviate(backend) + "' is not iptables or nftables");
  s.bridge = name_field(j, "bridge", cni::valid_ifname, where);
  s.forward = field(j, "forward", json::value_t::boolean, where).get<bool>();
  s.nat.ip_masq = field(j, "ipMasq", json::value_t::boolean, where).get<bool>();
  for (const auto& ip : field(j, "ips", json::value_t::array, where)) {
    const auto p = ip.is_string() ? net::IpPrefix::parse(ip.get<std::string>()) : std::nullopt;
    if (!p) bad(where, "key 'ips': every entry must be an address with its prefix");
    s.nat.container_ips.push_back(*p);
  }
  for (const auto& m : field(j, "portMappings", json::value_t::array, where))
    s.nat.port_mappings.push_back(mapping_from(m, where));
  if (j.contains("spoofCheckMac")) {
    s.nat.host_ifname = name_field(j, "hostIfname", cni::valid_ifname, where);
    s.nat.spoof_check_mac = net::parse_mac(field(j, "spoofCheckMac", json::value_t::string, where).get<std::string>());
    if (!s.nat.spoof_check_mac) bad(where, "key 'spoofCheckMac' is not a MAC address");
  }
  return s;
}

StateDir::StateDir(std::string path) : path_(std::move(path)) {}

void StateDir::save(const AttachmentState& s) {
  make_dir(path_);
  const std::string dir = network_dir(s.nat.key.network);
  make_dir(dir);
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) sys::throw_errno("open firewall state directory '" + dir + "'");
  // /run is tmpfs and the state lives only until reboot, like the rules: no fsync.
  sys::write_file_atomic(fd.get(), file_name(s.nat.key), to_json(s), dir, sys::Durability::kNoSync);
}

void StateDir::remove(const firewall::AttachmentKey& key) {
  const std::string dir = network_dir(key.network);
  const std::string file = dir + "/" + file_name(key);
  if (::unlink(file.c_str()) != 0 && errno != ENOENT) sys::throw_errno("remove firewall state '" + file + "'");
  // The network's last attachment takes the directory, and with it any temp file (under the
  // network lock every save holds, one is a killed ADD's). Before that nothing is swept: a sweep
  // reads the whole directory, and leftovers harm nobody (every reader skips them).
  if (network_has_attachments(key.network)) return;
  if (sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)); fd)
    sys::remove_temp_files(fd.get());
  if (::rmdir(dir.c_str()) != 0 && errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT)
    log::warn("firewall state: cannot remove '" + dir + "': " + std::strerror(errno));
}

namespace {

// The state in `dir`/`name`, checked to belong there; nullopt when the file is gone. Throws on a
// torn, hostile or misplaced file.
std::optional<AttachmentState> read_state(const std::string& dir, const std::string& network, const std::string& name) {
  const std::string where = dir + "/" + name;
  if (!name.ends_with(kSuffix)) bad(where, "not a state file");
  sys::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    sys::throw_errno("open '" + dir + "'");
  }
  const auto text = sys::read_file_at(fd.get(), name, kMaxStateBytes, dir);
  if (!text) return std::nullopt;
  AttachmentState s = from_json(*text, where);
  if (s.nat.key.network != network || file_name(s.nat.key) != name)
    bad(where, "names attachment " + s.nat.key.network + "/" + s.nat.key.container_id + "/" + s.nat.key.ifname +
                   ", which does not belong here");
  return s;
}

}  // namespace

std::vector<AttachmentState> StateDir::load_network(const std::string& network) const {
  std::vector<AttachmentState> out;
  if (!cni::valid_name(network)) return out;
  const std::string dir = network_dir(network);
  for_each_entry(dir, [&](const std::string& name) {
    try {
      if (auto s = read_state(dir, network, name)) out.push_back(std::move(*s));
    } catch (const std::exception& e) {
      log::warn(std::string("skipping ") + e.what());
    }
    return true;
  });
  return out;
}

std::optional<AttachmentState> StateDir::load(const firewall::AttachmentKey& key) const {
  try {
    return read_state(network_dir(key.network), key.network, file_name(key));
  } catch (const std::exception& e) {
    log::warn(std::string("ignoring ") + e.what());
    return std::nullopt;
  }
}

std::vector<AttachmentState> StateDir::load_all() const {
  std::vector<AttachmentState> out;
  for_each_entry(path_, [&](const std::string& network) {
    if (!cni::valid_name(network)) {
      log::warn("skipping firewall state '" + path_ + "/" + network + "': not a network name");
      return true;
    }
    for (auto& s : load_network(network)) out.push_back(std::move(s));
    return true;
  });
  return out;
}

bool StateDir::network_has_attachments(const std::string& network, const firewall::AttachmentKey* besides) const {
  const std::string skip = besides ? file_name(*besides) : std::string();
  bool any = false;
  // Stops at the first one, reading a few entries at a time: an O(1) question on a node with
  // thousands of attachments, asked by every ADD and DEL.
  for_each_entry(
      network_dir(network),
      [&](const std::string& name) {
        any = name.ends_with(kSuffix) && name != skip;
        return !any;
      },
      /*chunk=*/1024);
  return any;
}

sys::FileLock StateDir::network_lock(const std::string& network) const {
  make_dir(path_);
  return sys::FileLock::acquire(path_ + "/." + network + ".lock", kLockTimeout, kTryAgainLater);
}

sys::FileLock StateDir::lock(sys::LockMode mode) const {
  make_dir(path_);
  return sys::FileLock::acquire(path_ + "/.lock", kLockTimeout, kTryAgainLater, mode);
}

std::optional<sys::FileLock> StateDir::lock_if_exists(sys::LockMode mode) const {
  if (::access(path_.c_str(), F_OK) != 0) return std::nullopt;
  return lock(mode);
}

}  // namespace tether::plugin
