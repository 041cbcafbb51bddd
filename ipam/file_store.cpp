#include "ipam/file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

#include "ipam/lease_file.hpp"
#include "lib/cni/error.hpp"
#include "lib/log/log.hpp"
#include "lib/sys/atomic_file.hpp"
#include "lib/sys/sys_error.hpp"
#include "lib/util/fault.hpp"

namespace tether::ipam {
namespace {

constexpr std::size_t kMaxLeaseBytes = 1024;

void mkdir_p(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return;
  if (errno != ENOENT) sys::throw_errno("mkdir '" + path + "'");
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) sys::throw_errno("mkdir '" + path + "'");
  mkdir_p(path.substr(0, slash));
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) sys::throw_errno("mkdir '" + path + "'");
}

std::string net_path(const StoreLocation& loc) {
  std::string dir = loc.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + loc.network;
}

std::vector<std::string> read_names(int dir_fd, const std::string& what) {
  sys::UniqueFd dup(::dup(dir_fd));
  DIR* d = dup ? ::fdopendir(dup.get()) : nullptr;
  if (d == nullptr) sys::throw_errno("opendir '" + what + "'");
  dup.release();
  ::rewinddir(d);
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

}  // namespace

FileStore::FileStore(const StoreLocation& loc, Open mode, std::chrono::milliseconds lock_timeout)
    : path_(net_path(loc)), durability_(loc.fsync ? sys::Durability::kFsync : sys::Durability::kNoSync) {
  if (mode == Open::kCreate) mkdir_p(path_);
  dir_.reset(::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_) {
    if (mode == Open::kIfExists && errno == ENOENT) return;
    sys::throw_errno("open '" + path_ + "'");
  }
  lock_.emplace(sys::FileLock::acquire(path_ + "/" + std::string(kLockName), lock_timeout, cni::kTryAgainLater));
  index_.emplace(dir_.get(), path_);
}

FileStore::~FileStore() {
  try {
    finish();
  } catch (const std::exception& e) {
    log::warn(std::string("finishing store session: ") + e.what() + ", ignoring");
  }
}

void FileStore::finish() {
  if (!dirty_) return;
  dirty_ = false;
  if (durability_ == sys::Durability::kFsync && ::fsync(dir_.get()) != 0) sys::throw_errno("fsync '" + path_ + "'");
  if (!index_checked_ || !index_->usable()) return;
  // The index is only a cache: failing to seal it must not fail the verb, the next one rebuilds.
  try {
    index_->seal();
  } catch (const std::exception& e) {
    log::warn(std::string("sealing lease index: ") + e.what() + ", ignoring");
    index_->invalidate();
  }
}

std::vector<std::string> FileStore::entry_names() { return read_names(dir_.get(), path_); }

std::optional<Owner> FileStore::read_owner(const std::string& name) {
  try {
    auto text = sys::read_file_at(dir_.get(), name, kMaxLeaseBytes, path_);
    return text ? parse_lease_content(*text) : std::nullopt;
  } catch (const sys::SysError& e) {
    log::warn(std::string(e.what()) + ": treating it as a lease held by nobody");
    return std::nullopt;
  }
}

void FileStore::ensure_index() {
  if (index_checked_) return;
  index_checked_ = true;
  // The index is a cache: if it cannot be read or written, work from the lease files alone.
  try {
    if (index_->fresh()) return;
    log::debug("lease index of '" + path_ + "' is stale: rebuilding");
    index_->rebuild(scan());
    dirty_ = true;  // seal the rebuilt index even if this session changes nothing else
  } catch (const std::exception& e) {
    log::warn(std::string("lease index unusable: ") + e.what() + "; scanning lease files instead");
    index_->invalidate();
  }
}

bool FileStore::reserve(const net::IpAddress& ip, const Owner& owner) {
  if (!exists()) throw Error("store '" + path_ + "' does not exist");
  const std::string name = ip.to_string();
  for (int attempt = 0; attempt < 2; ++attempt) {
    // The exclusive create is the reservation (as in host-local); the content follows in one
    // write, so a crash can leave an empty file but never a partial owner.
    fault::point("ipam: reserve lease");
    if (write_new_file(name, lease_content(owner))) {
      dirty_ = true;
      if (index_checked_) index_->add(owner, ip);
      return true;
    }
    // An empty file can only be a create whose writer died before writing (writers hold the lock).
    struct stat st {};
    if (attempt > 0 || ::fstatat(dir_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size != 0)
      return false;
    log::warn("reclaiming empty lease file '" + path_ + "/" + name + "' (left by a crash)");
    if (::unlinkat(dir_.get(), name.c_str(), 0) != 0) sys::throw_errno("unlink '" + path_ + "/" + name + "'");
    dirty_ = true;
  }
  return false;
}

void FileStore::release(const net::IpAddress& ip) {
  if (!exists()) return;
  const std::string name = ip.to_string();
  const auto owner = read_owner(name);
  fault::point("ipam: release lease");
  if (::unlinkat(dir_.get(), name.c_str(), 0) != 0) {
    if (errno == ENOENT) return;
    sys::throw_errno("release '" + path_ + "/" + name + "'");
  }
  dirty_ = true;
  if (index_checked_ && owner) index_->remove(*owner, ip);
}

std::optional<net::IpAddress> FileStore::last_reserved(std::size_t range_set) {
  if (!exists()) return std::nullopt;
  const std::string name = std::string(kLastReservedPrefix) + std::to_string(range_set);
  try {
    auto text = sys::read_file_at(dir_.get(), name, 64, path_);
    if (!text) return std::nullopt;
    while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) text->pop_back();
    return net::IpAddress::parse(*text);  // unreadable: lose round-robin once, like host-local
  } catch (const sys::SysError& e) {
    log::warn(std::string(e.what()) + ", ignoring");
    return std::nullopt;
  }
}

void FileStore::set_last_reserved(std::size_t range_set, const net::IpAddress& ip) {
  const std::string name = std::string(kLastReservedPrefix) + std::to_string(range_set);
  fault::point("ipam: write cursor");
  if (durability_ == sys::Durability::kFsync) {
    sys::write_file_atomic(dir_.get(), name, ip.to_string(), path_, durability_);
    dirty_ = true;  // the rename changed the directory mtime
    return;
  }
  // The cursor is a hint: a torn or stale value only moves where round-robin resumes (and an
  // unparseable one restarts it, as in host-local). Replacing it by rename costs a journaled
  // metadata operation that measured 0.3-6 ms per ADD in a 5,000-lease directory; in place it is
  // a page-cache write.
  sys::overwrite_file_at(dir_.get(), name, ip.to_string(), path_);
}

bool FileStore::write_new_file(const std::string& name, std::string_view content) {
  sys::UniqueFd fd(::openat(dir_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == EEXIST) return false;
    sys::throw_errno("create '" + path_ + "/" + name + "'");
  }
  const ssize_t n = ::write(fd.get(), content.data(), content.size());
  int err = n < 0 ? errno : (n != static_cast<ssize_t>(content.size()) ? EIO : 0);
  if (err == 0 && durability_ == sys::Durability::kFsync && ::fdatasync(fd.get()) != 0) err = errno;
  if (err != 0) {
    ::unlinkat(dir_.get(), name.c_str(), 0);
    throw sys::SysError("write '" + path_ + "/" + name + "'", err);
  }
  return true;
}

std::vector<net::IpAddress> FileStore::find_by_owner(const Owner& owner) {
  if (!exists()) return {};
  ensure_index();
  if (index_->usable()) {
    try {
      return indexed_lookup(owner);
    } catch (const std::exception& e) {
      log::warn(std::string("lease index unusable: ") + e.what() + "; scanning lease files instead");
      index_->invalidate();
    }
  }
  // No trustworthy index (unreadable, or a filesystem that rounds timestamps): read every lease,
  // as host-local does.
  std::vector<net::IpAddress> out;
  for (const auto& l : scan()) {
    if (l.owner == owner) out.push_back(l.ip);
  }
  return out;
}

std::vector<net::IpAddress> FileStore::indexed_lookup(const Owner& owner) {
  auto ips = index_->lookup(owner);
  bool consistent = true;
  for (const auto& ip : ips) consistent = consistent && read_owner(ip.to_string()) == owner;
  if (consistent) return ips;
  log::warn("lease index of '" + path_ + "' disagrees with the lease files: rebuilding");
  index_->rebuild(scan());
  dirty_ = true;
  return index_->lookup(owner);
}

std::vector<Lease> FileStore::list() {
  if (!exists()) return {};
  ensure_index();  // so releases that follow keep the index current
  return scan();
}

std::vector<Lease> FileStore::scan() {
  std::vector<Lease> out;
  for (const auto& name : entry_names()) {
    if (name.starts_with(sys::kTempPrefix)) {
      // We hold the lock, so no writer is alive to own it: a crash leftover.
      ::unlinkat(dir_.get(), name.c_str(), 0);
      continue;
    }
    if (auto ip = parse_lease_name(name)) out.push_back({*ip, read_owner(name)});
  }
  return out;
}

std::optional<std::set<net::IpAddress>> FileStore::held_addresses() {
  std::set<net::IpAddress> out;
  if (!exists()) return out;
  for (const auto& name : entry_names()) {
    if (auto ip = parse_lease_name(name)) out.insert(*ip);
  }
  return out;
}

std::set<net::IpAddress> FileStore::held_addresses_unlocked(const StoreLocation& loc) {
  const std::string path = net_path(loc);
  sys::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    sys::throw_errno("open '" + path + "'");
  }
  std::set<net::IpAddress> out;
  for (const auto& name : read_names(fd.get(), path)) {
    if (auto ip = parse_lease_name(name)) out.insert(*ip);
  }
  return out;
}

}  // namespace tether::ipam
