#include "lib/log/log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <string>

namespace tether::log {
namespace {

// Plain state, constant-initialised by g++ (std::string's default constructor is constexpr), so
// nothing runs at process start. Not `constinit`: clang 14 with libstdc++ 12 cannot evaluate it,
// and the fuzz targets are built with clang. Plugins are single-threaded.
struct State {
  Level level = Level::Warning;
  int fd = -1;  // -1 = stderr
  std::string context;
};
State g_state;

const char* level_name(Level l) {
  switch (l) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warning: return "warning";
    case Level::Error: return "error";
    case Level::Off: break;
  }
  return "off";
}

// RFC 3339 UTC with milliseconds, like the Go plugins' file logs.
void append_timestamp(std::string& out) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  ::gmtime_r(&ts.tv_sec, &t);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  out.append(buf, n);
  char ms[8];
  const int m = static_cast<int>(ts.tv_nsec / 1000000);
  ms[0] = '.';
  ms[1] = static_cast<char>('0' + m / 100);
  ms[2] = static_cast<char>('0' + m / 10 % 10);
  ms[3] = static_cast<char>('0' + m % 10);
  ms[4] = 'Z';
  out.append(ms, 5);
}

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to report a logging failure
    }
    off += static_cast<std::size_t>(n);
  }
}

bool equals_ci(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

bool parse_level(std::string_view text, Level& out) {
  if (equals_ci(text, "debug")) {
    out = Level::Debug;
  } else if (equals_ci(text, "info")) {
    out = Level::Info;
  } else if (equals_ci(text, "warning") || equals_ci(text, "warn")) {
    out = Level::Warning;
  } else if (equals_ci(text, "error")) {
    out = Level::Error;
  } else if (equals_ci(text, "panic") || equals_ci(text, "off") || equals_ci(text, "none")) {
    out = Level::Off;
  } else {
    return false;
  }
  return true;
}

void configure(Level level, const std::string& file_path) {
  g_state.level = level;
  if (g_state.fd >= 0) {
    ::close(g_state.fd);
    g_state.fd = -1;
  }
  // Opened lazily would save nothing: configure() is only called when a logFile is set.
  // O_APPEND keeps lines from concurrent plugin runs whole; O_CLOEXEC keeps it from delegates.
  if (!file_path.empty() && level != Level::Off) {
    g_state.fd = ::open(file_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (g_state.fd < 0) {
      const std::string why = std::string("cannot open logFile '") + file_path + "', logging to stderr";
      write(Level::Warning, why);
    }
  }
}

void set_context(std::string context) { g_state.context = std::move(context); }

Level level() { return g_state.level; }

void write(Level lvl, std::string_view message) {
  if (lvl == Level::Off || lvl < g_state.level) return;
  std::string line;
  line.reserve(64 + g_state.context.size() + message.size());
  append_timestamp(line);
  line += ' ';
  line += level_name(lvl);
  line += ' ';
  // glibc's name of the running binary ("tether", "tether-ipam"): set by the loader, no work here.
  line += program_invocation_short_name;
  line += '[';
  line += std::to_string(::getpid());
  line += ']';
  if (!g_state.context.empty()) {
    line += ' ';
    line += g_state.context;
  }
  line += ": ";
  line += message;
  line += '\n';
  // One write() per line so lines from parallel runs do not interleave.
  write_all(g_state.fd >= 0 ? g_state.fd : STDERR_FILENO, line);
}

}  // namespace tether::log
