#pragma once
// host-local's on-disk store, byte for byte: <dataDir>/<network>/<ip> holding
// "<containerID>\r\n<ifname>", last_reserved_ip.<rangeSetIndex>, and a `lock` file flock'ed for
// every mutation. A FileStore object *is* the locked session: the constructor takes the lock and
// the destructor releases it, so hold one only around the mutation.
//
// Crash safety:
//  - a reservation is an O_CREAT|O_EXCL create (EEXIST = taken) followed by one write of the
//    owner, so a crash leaves at most an empty file, never a partial owner;
//  - an empty IP file (a writer that died between create and write) is reclaimed under the lock;
//    any other unparseable content keeps the address out of use and belongs to nobody (GC removes it);
//  - last_reserved_ip (a round-robin hint whose torn value is harmless) is overwritten in place;
//    with "fsync": true in the config it is replaced by temp + fsync + rename + fsync(dir), and
//    lease files are fdatasync'ed, for stores that must survive a power cut exactly (off by
//    default: one fsync costs more than a whole ADD here);
//  - temp files left by a crash are removed when the index is rebuilt.
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/config.hpp"
#include "ipam/lease_index.hpp"
#include "ipam/store.hpp"
#include "lib/sys/atomic_file.hpp"
#include "lib/sys/file_lock.hpp"
#include "lib/sys/unique_fd.hpp"

namespace tether::ipam {

inline constexpr std::chrono::milliseconds kLockTimeout{30000};

class FileStore : public Store {
 public:
  enum class Open { kCreate, kIfExists };
  // Opens <data_dir>/<network> (creating it with kCreate) and takes its lock, waiting up to
  // `lock_timeout` (then code 11). With kIfExists and no directory, exists() is false and every
  // read returns nothing.
  FileStore(const StoreLocation& loc, Open mode, std::chrono::milliseconds lock_timeout = kLockTimeout);
  ~FileStore() override;
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  bool exists() const { return static_cast<bool>(dir_); }
  const std::string& path() const { return path_; }

  bool reserve(const net::IpAddress& ip, const Owner& owner) override;
  void release(const net::IpAddress& ip) override;
  std::optional<net::IpAddress> last_reserved(std::size_t range_set) override;
  void set_last_reserved(std::size_t range_set, const net::IpAddress& ip) override;
  std::vector<net::IpAddress> find_by_owner(const Owner& owner) override;
  std::vector<Lease> list() override;
  std::optional<std::set<net::IpAddress>> held_addresses() override;

  // Ends the mutation: fsync of the directory (with "fsync": true; throws) and the index stamp
  // (never throws). Call after the last mutation; the destructor does it too, logging errors.
  void finish();

  // STATUS: addresses with a lease file, read from file names only, without the lock (never waits).
  // Empty when the directory does not exist. Throws SysError when it cannot be read.
  static std::set<net::IpAddress> held_addresses_unlocked(const StoreLocation& loc);

 private:
  std::optional<Owner> read_owner(const std::string& name);
  std::vector<Lease> scan();  // every lease file, read; removes crash-left temp files
  void ensure_index();
  std::vector<net::IpAddress> indexed_lookup(const Owner& owner);  // verified against the files
  std::vector<std::string> entry_names();
  // O_EXCL create + write (+ fdatasync with "fsync"); false when the name exists.
  bool write_new_file(const std::string& name, std::string_view content);

  std::string path_;
  sys::Durability durability_;
  sys::UniqueFd dir_;
  std::optional<sys::FileLock> lock_;
  std::optional<LeaseIndex> index_;
  bool index_checked_ = false;
  bool dirty_ = false;  // lease files changed since the index was checked
};

}  // namespace tether::ipam
