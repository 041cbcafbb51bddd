#pragma once
// Small-file helpers relative to a directory fd (no path re-resolution between calls).
//   write_file_atomic: temp file in the same directory + write + fsync + rename + fsync(dir), so a
//   reader sees the old content or the new, never a torn file, even after a power cut.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tether::sys {

// Prefix of every temp file we create; anything with it is a leftover once its writer is gone.
inline constexpr std::string_view kTempPrefix = ".tether-tmp.";

enum class Durability { kFsync, kNoSync };

// `what` names the directory in error messages. Throws SysError.
void write_file_atomic(int dir_fd, const std::string& name, std::string_view content, const std::string& what,
                       Durability durability = Durability::kFsync);

// Overwrites a small file in place (pwrite at 0, then truncate if it shrank): no new inode, no
// rename, so no journal-heavy metadata operation. NOT atomic: use it only for content whose torn
// or stale value is harmless (a hint a reader validates). Throws SysError.
void overwrite_file_at(int dir_fd, const std::string& name, std::string_view content, const std::string& what);

// Whole file (at most `max_bytes`; longer files are cut there); nullopt when it does not exist.
// Other errors throw SysError.
std::optional<std::string> read_file_at(int dir_fd, const std::string& name, std::size_t max_bytes,
                                        const std::string& what);

// A temp name unique to this process: ".tether-tmp.<pid>.<counter>.<tag>".
std::string temp_name(std::string_view tag);

// Removes the temp files that writers killed before their rename left in the directory. Only
// while holding the lock every writer of the directory holds (a live writer's file would go).
// Best effort: a leftover costs a few bytes, not correctness.
void remove_temp_files(int dir_fd);

}  // namespace tether::sys
