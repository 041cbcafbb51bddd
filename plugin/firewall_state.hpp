#pragma once
// Each attachment's firewall intent, on disk, so that `tether firewall-reload` can put its rules
// back after a firewall reload (`firewall-cmd --reload`, a restarted nftables.service, an
// `iptables -F`) wiped them, as netavark does with its firewall state.
//
//   <stateDir>/<network>/<attachment hash>.json   one per attachment with firewall work
//   <stateDir>/.lock                              shared by ADD/DEL/GC, exclusive for a reload
//
// Written (atomically: temp + rename) before the rules at ADD, removed after them at DEL and GC,
// so a reload never re-creates rules of an attachment that is gone, and never misses one that
// has rules. The default /run/tether is gone at reboot, like the rules themselves.
#include <optional>
#include <string>
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/sys/file_lock.hpp"

namespace tether::plugin {

struct AttachmentState {
  firewall::NatPlan nat;  // key, ipMasq, addresses, port mappings
  firewall::Backend backend = firewall::Backend::Iptables;
  std::string bridge;
  bool forward = false;  // the network's FORWARD accepts
  bool operator==(const AttachmentState&) const;
};

// Pure (unit-tested): the file content and back. from_json throws tether::Error naming `where`
// and the key for a torn, mistyped or hostile document (names outside the CNI rules included).
std::string to_json(const AttachmentState& s);
AttachmentState from_json(const std::string& text, const std::string& where);

class StateDir {
 public:
  explicit StateDir(std::string path);  // nothing is created until the first save()

  // Both only under network_lock(network): the network's last remove() takes the temp files of
  // killed saves with it.
  void save(const AttachmentState& s);
  void remove(const firewall::AttachmentKey& key);  // gone is fine; an emptied network dir goes too
  // Every readable state (of one network). A torn, empty or hostile file, or one whose content
  // names another attachment than its place, is skipped with a warning naming it.
  std::vector<AttachmentState> load_all() const;
  std::vector<AttachmentState> load_network(const std::string& network) const;
  // `besides`: an attachment of the network not to count.
  bool network_has_attachments(const std::string& network, const firewall::AttachmentKey* besides = nullptr) const;
  std::optional<AttachmentState> load(const firewall::AttachmentKey& key) const;

  // Held around an attachment's rules-and-state change (shared: verbs never wait for each other)
  // or around a whole reload (exclusive), so a reload never resurrects what a DEL removes.
  // nullopt from lock_if_exists when the directory does not exist (nothing to protect).
  sys::FileLock lock(sys::LockMode mode) const;
  std::optional<sys::FileLock> lock_if_exists(sys::LockMode mode) const;
  // Exclusive, per network: held while an attachment's state appears or goes together with the
  // decision it implies for the whole network (its first attachment sets up the network's
  // forwarding, its last removes it), so two calls never decide on a stale view.
  sys::FileLock network_lock(const std::string& network) const;

  const std::string& path() const { return path_; }

 private:
  std::string network_dir(const std::string& network) const { return path_ + "/" + network; }
  std::string path_;
};

}  // namespace tether::plugin
