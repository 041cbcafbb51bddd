#pragma once
// Leveled logger. stdout belongs to the CNI result, so logs go to stderr, or to the file named
// by the config's `logFile`, at the config's `logLevel` (default: warning). Every line carries the
// per-invocation context (command, container ID, ifname) set once by the CNI boundary.
#include <string>
#include <string_view>

namespace tether::log {

enum class Level { Debug = 0, Info = 1, Warning = 2, Error = 3, Off = 4 };

// Parses "debug", "info", "warning"/"warn", "error", "panic"/"off"; nullopt-like false on unknown.
bool parse_level(std::string_view text, Level& out);

// Configure the sink. An empty path means stderr. A file that cannot be opened falls back to stderr.
void configure(Level level, const std::string& file_path = {});
void set_context(std::string context);  // e.g. "ADD abc123/eth0"
Level level();

void write(Level level, std::string_view message);
inline void debug(std::string_view m) { write(Level::Debug, m); }
inline void info(std::string_view m) { write(Level::Info, m); }
inline void warn(std::string_view m) { write(Level::Warning, m); }
inline void error(std::string_view m) { write(Level::Error, m); }

}  // namespace tether::log
