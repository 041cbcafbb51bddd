#include "ipam/lease_index.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "lib/sys/atomic_file.hpp"
#include "lib/sys/sys_error.hpp"

namespace tether::ipam {
namespace {

constexpr const char* kStamp = "stamp";
constexpr const char* kSnapshot = "snapshot";
constexpr const char* kJournal = "journal";
constexpr std::size_t kMaxIndexBytes = 64 * 1024 * 1024;
// Fold the journal into the snapshot once it outgrows this and the snapshot: every lookup reads
// both, and on a node whose containers come and go the journal is mostly +/- pairs of leases long
// gone. A compaction rewrites the snapshot, which is at most as large as the journal it folds in.
constexpr std::size_t kCompactBytes = 16 * 1024;

// (Built with += throughout: GCC 12 misreports long operator+ chains under -O3 -Wrestrict.)
std::string key_of(const Owner& o) {
  std::string k = o.container_id;
  k += '@';
  k += o.ifname;
  return k;
}

// Appends "<op><key> <ip>\n"; op 0 = none (snapshot lines).
void append_line(std::string& out, char op, std::string_view key, const net::IpAddress& ip) {
  if (op != 0) out += op;
  out += key;
  out += ' ';
  out += ip.to_string();
  out += '\n';
}

// Fixed width, so an in-place overwrite never needs a truncate.
std::string stamp_text(const timespec& t) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%020lld.%09ld\n", static_cast<long long>(t.tv_sec), static_cast<long>(t.tv_nsec));
  return buf;
}

timespec dir_mtime(int fd, const std::string& what) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) sys::throw_errno("stat '" + what + "'");
  return st.st_mtim;
}

// Overwrites the stamp in place: no new inode per seal. A torn stamp only reads as "stale".
void write_stamp(int dir_fd, const std::string& text, const std::string& what) {
  sys::UniqueFd fd(::openat(dir_fd, kStamp, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) sys::throw_errno("open '" + what + "/" + kStamp + "'");
  if (::pwrite(fd.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    sys::throw_errno("write '" + what + "/" + kStamp + "'");
}

// Calls fn(op, key, ip) for each complete line; op is '+' or '-' (snapshot lines count as '+').
// A torn last line (no '\n') is ignored: the stamp check already marks such an index stale.
template <typename Fn>
void for_each_line(const std::string& text, bool journal, Fn&& fn) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string_view line(text.data() + pos, nl - pos);
    pos = nl + 1;
    char op = '+';
    if (journal) {
      if (line.empty()) continue;
      op = line.front();
      line.remove_prefix(1);
    }
    const auto sp = line.rfind(' ');
    if (sp == std::string_view::npos) continue;
    fn(op, line.substr(0, sp), line.substr(sp + 1));
  }
}

void apply(std::vector<net::IpAddress>& ips, char op, std::string_view ip_text) {
  auto ip = net::IpAddress::parse(ip_text);
  if (!ip) return;
  std::erase(ips, *ip);
  if (op == '+') ips.push_back(*ip);
}

}  // namespace

LeaseIndex::LeaseIndex(int net_dir_fd, std::string what)
    : net_fd_(net_dir_fd), what_(std::move(what) + "/" + kIndexDirName) {}

void LeaseIndex::open_dir() {
  if (fd_) return;
  fd_.reset(::openat(net_fd_, kIndexDirName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd_) return;
  if (errno != ENOENT) sys::throw_errno("open '" + what_ + "'");
  if (::mkdirat(net_fd_, kIndexDirName, 0755) != 0 && errno != EEXIST) sys::throw_errno("mkdir '" + what_ + "'");
  fd_.reset(::openat(net_fd_, kIndexDirName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd_) sys::throw_errno("open '" + what_ + "'");
}

bool LeaseIndex::fresh() {
  open_dir();
  const auto stamp = sys::read_file_at(fd_.get(), kStamp, 64, what_);
  usable_ = stamp && *stamp == stamp_text(dir_mtime(net_fd_, what_));
  return usable_;
}

const std::string& LeaseIndex::snapshot() {
  if (!snapshot_) snapshot_ = sys::read_file_at(fd_.get(), kSnapshot, kMaxIndexBytes, what_).value_or("");
  return *snapshot_;
}

const std::string& LeaseIndex::journal() {
  if (!journal_) journal_ = sys::read_file_at(fd_.get(), kJournal, kMaxIndexBytes, what_).value_or("");
  return *journal_;
}

void LeaseIndex::rebuild(const std::vector<Lease>& leases) {
  open_dir();
  invalidate();
  // A writer killed between creating a temp snapshot and renaming it leaves the temp file behind.
  // Such a crash also leaves the stamp stale (the session changed leases first), so this rebuild,
  // under the store lock with no other writer alive, is where leftovers are swept.
  sys::remove_temp_files(fd_.get());
  std::string snap;
  for (const auto& l : leases) {
    if (l.owner) append_line(snap, 0, key_of(*l.owner), l.ip);
  }
  sys::write_file_atomic(fd_.get(), kSnapshot, snap, what_, sys::Durability::kNoSync);
  if (::unlinkat(fd_.get(), kJournal, 0) != 0 && errno != ENOENT) sys::throw_errno("unlink '" + what_ + "/journal'");
  snapshot_ = std::move(snap);
  journal_ = std::string();
  pending_.clear();
  usable_ = true;
}

std::vector<net::IpAddress> LeaseIndex::lookup(const Owner& owner) {
  const std::string key = key_of(owner);
  std::vector<net::IpAddress> ips;
  const auto visit = [&](char op, std::string_view k, std::string_view ip) {
    if (k == key) apply(ips, op, ip);
  };
  for_each_line(snapshot(), false, visit);
  for_each_line(journal(), true, visit);
  for_each_line(pending_, true, visit);
  return ips;
}

void LeaseIndex::add(const Owner& owner, const net::IpAddress& ip) {
  if (usable_) append_line(pending_, '+', key_of(owner), ip);
}

void LeaseIndex::remove(const Owner& owner, const net::IpAddress& ip) {
  if (usable_) append_line(pending_, '-', key_of(owner), ip);
}

void LeaseIndex::compact() {
  std::map<std::string, std::vector<net::IpAddress>, std::less<>> state;
  const auto visit = [&](char op, std::string_view k, std::string_view ip) {
    auto it = state.find(k);
    if (it == state.end()) it = state.emplace(std::string(k), std::vector<net::IpAddress>{}).first;
    apply(it->second, op, ip);
  };
  for_each_line(snapshot(), false, visit);
  for_each_line(journal(), true, visit);
  std::string snap;
  for (const auto& [k, ips] : state) {
    for (const auto& ip : ips) append_line(snap, 0, k, ip);
  }
  // New snapshot first, then drop the journal: a crash in between replays it onto a snapshot that
  // already contains it, which changes nothing.
  sys::write_file_atomic(fd_.get(), kSnapshot, snap, what_, sys::Durability::kNoSync);
  if (::unlinkat(fd_.get(), kJournal, 0) != 0 && errno != ENOENT) sys::throw_errno("unlink '" + what_ + "/journal'");
  snapshot_ = std::move(snap);
  journal_ = std::string();
}

void LeaseIndex::seal() {
  if (!usable_) return;
  if (!pending_.empty()) {
    sys::UniqueFd fd(::openat(fd_.get(), kJournal, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!fd) sys::throw_errno("open '" + what_ + "/journal'");
    if (::write(fd.get(), pending_.data(), pending_.size()) != static_cast<ssize_t>(pending_.size()))
      sys::throw_errno("append '" + what_ + "/journal'");
    if (journal_) *journal_ += pending_;
    pending_.clear();
    struct stat st {};
    if (::fstat(fd.get(), &st) == 0 && static_cast<std::size_t>(st.st_size) > kCompactBytes &&
        static_cast<std::size_t>(st.st_size) > snapshot().size())
      compact();
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const timespec cur = dir_mtime(net_fd_, what_);
  if (now.tv_sec == cur.tv_sec && now.tv_nsec == cur.tv_nsec) now.tv_nsec = (now.tv_nsec + 1) % 1000000000;
  write_stamp(fd_.get(), stamp_text(now), what_);
  const timespec times[2] = {{0, UTIME_OMIT}, now};
  if (::futimens(net_fd_, times) != 0) sys::throw_errno("set mtime of '" + what_ + "'");
  // A filesystem that rounds timestamps cannot tell our stamp from a later foreign change.
  const timespec back = dir_mtime(net_fd_, what_);
  if (back.tv_sec != now.tv_sec || back.tv_nsec != now.tv_nsec) invalidate();
}

void LeaseIndex::invalidate() noexcept {
  usable_ = false;
  if (fd_) ::unlinkat(fd_.get(), kStamp, 0);
}

}  // namespace tether::ipam
