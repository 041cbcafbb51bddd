#include "lib/sys/atomic_file.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/sys/sys_error.hpp"
#include "lib/sys/unique_fd.hpp"

namespace tether::sys {
namespace {

void write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("write '" + what + "'");
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string temp_name(std::string_view tag) {
  static unsigned counter = 0;
  return std::string(kTempPrefix) + std::to_string(::getpid()) + "." + std::to_string(counter++) + "." +
         std::string(tag);
}

void write_file_atomic(int dir_fd, const std::string& name, std::string_view content, const std::string& what,
                       Durability durability) {
  const std::string tmp = temp_name(name);
  const std::string target = what + "/" + name;
  UniqueFd fd(::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) throw_errno("create '" + what + "/" + tmp + "'");
  try {
    // Allocating the blocks before writing keeps the data out of delayed allocation, so ext4's
    // replace-by-rename heuristic (auto_da_alloc) has nothing to flush at rename time and the
    // rename stays a pure metadata operation. Best effort: not every filesystem supports it.
    if (!content.empty()) (void)::fallocate(fd.get(), 0, 0, static_cast<off_t>(content.size()));
    write_all(fd.get(), content, target);
    if (durability == Durability::kFsync && ::fdatasync(fd.get()) != 0) throw_errno("fsync '" + target + "'");
    fd.reset();
    if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) throw_errno("rename into '" + target + "'");
  } catch (...) {
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    throw;
  }
  if (durability == Durability::kFsync && ::fsync(dir_fd) != 0) throw_errno("fsync '" + what + "'");
}

void overwrite_file_at(int dir_fd, const std::string& name, std::string_view content, const std::string& what) {
  const std::string target = what + "/" + name;
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) throw_errno("open '" + target + "'");
  if (::pwrite(fd.get(), content.data(), content.size(), 0) != static_cast<ssize_t>(content.size()))
    throw_errno("write '" + target + "'");
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("stat '" + target + "'");
  if (static_cast<std::size_t>(st.st_size) > content.size() &&
      ::ftruncate(fd.get(), static_cast<off_t>(content.size())) != 0)
    throw_errno("truncate '" + target + "'");
}

std::optional<std::string> read_file_at(int dir_fd, const std::string& name, std::size_t max_bytes,
                                        const std::string& what) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw_errno("open '" + what + "/" + name + "'");
  }
  // Size the buffer from fstat (plus room to notice growth), not from max_bytes: the cap may be
  // large and zero-filling it would cost more than the read.
  struct stat st {};
  const std::size_t hint = ::fstat(fd.get(), &st) == 0 && st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 0;
  std::string out;
  out.resize(std::min(max_bytes, hint + 256));
  std::size_t got = 0;
  while (got < max_bytes) {
    if (got == out.size()) out.resize(std::min(max_bytes, out.size() * 2));
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno("read '" + what + "/" + name + "'");
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

void remove_temp_files(int dir_fd) {
  const int copy = ::dup(dir_fd);  // closedir closes it, not the caller's fd
  DIR* d = copy >= 0 ? ::fdopendir(copy) : nullptr;
  if (d == nullptr) {
    if (copy >= 0) ::close(copy);
    return;
  }
  ::rewinddir(d);
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d))
    if (std::string_view(e->d_name).starts_with(kTempPrefix)) stale.emplace_back(e->d_name);
  ::closedir(d);
  for (const auto& name : stale) ::unlinkat(dir_fd, name.c_str(), 0);
}

}  // namespace tether::sys
