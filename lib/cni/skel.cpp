#include "lib/cni/skel.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <istream>
#include <new>
#include <ostream>
#include <sstream>

#include "lib/cni/conf.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/log/log.hpp"

namespace tether::cni {
namespace {

// Reads at most kMaxStdinBytes + 1 bytes so parse_netconf can reject oversized input (code 6).
std::string read_stream(std::istream& in) {
  std::string data;
  char buf[65536];
  while (data.size() <= kMaxStdinBytes && in.read(buf, sizeof buf).gcount() > 0) {
    data.append(buf, static_cast<std::size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad()) fail(kIoFailure, "failed to read stdin");
  return data;
}

// The version VERSION should answer with: stdin's cniVersion if it is a supported one, else the
// latest. Like the Go skel, VERSION never fails because of what is on stdin.
std::string requested_version(const std::string& data) {
  if (data.find_first_not_of(" \t\r\n") == std::string::npos) return {};
  json j = json::parse(data, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return {};
  auto it = j.find("cniVersion");
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

void check_version_gates(Command cmd, const NetConf& conf) {
  const std::string v = conf.version.to_string();
  if (cmd == Command::Check && conf.version < kV040)
    fail(kIncompatibleVersion, "config version does not allow CHECK (cniVersion " + v + ", needs 0.4.0 or later)");
  if ((cmd == Command::Gc || cmd == Command::Status) && conf.version < kV110)
    fail(kIncompatibleVersion, std::string("config version does not allow ") + command_name(cmd) + " (cniVersion " + v +
                                   ", needs 1.1.0 or later)");
}

void configure_logging(const Request& req) {
  log::Level level = log::Level::Warning;
  if (!req.conf.log_level.empty()) log::parse_level(req.conf.log_level, level);
  if (!req.conf.log_file.empty() || level != log::Level::Warning) log::configure(level, req.conf.log_file);
  std::string ctx = command_name(req.env.command);
  if (!req.env.container_id.empty() || !req.env.ifname.empty())
    ctx += " " + req.env.container_id + "/" + req.env.ifname;
  log::set_context(std::move(ctx));
}

[[noreturn]] void not_implemented(Command cmd) {
  fail(kInvalidEnv, std::string("CNI_COMMAND '") + command_name(cmd) + "' is not supported by this plugin");
}

void dispatch(const PluginFuncs& funcs, const Request& req, std::ostream& out) {
  switch (req.env.command) {
    case Command::Add: {
      if (!funcs.add) not_implemented(Command::Add);
      const Result r = funcs.add(req);
      out << result_to_string(r, req.conf.version) << '\n';
      return;
    }
    case Command::Del:
      if (!funcs.del) not_implemented(Command::Del);
      funcs.del(req);
      return;
    case Command::Check:
      if (!funcs.check) not_implemented(Command::Check);
      funcs.check(req);
      return;
    // A plugin without GC/STATUS keeps no state to collect and is always ready.
    case Command::Gc:
      if (funcs.gc) funcs.gc(req);
      return;
    case Command::Status:
      if (funcs.status) funcs.status(req);
      return;
    case Command::Version: return;
  }
}

void print_error(std::ostream& out, const std::string& version, int code, const std::string& msg,
                 const std::string& details) {
  json e = json::object();
  e["cniVersion"] = version;
  e["code"] = code;
  e["msg"] = msg;
  if (!details.empty()) e["details"] = details;
  // error_handler replace: a message quoting invalid UTF-8 input must still print as JSON.
  out << e.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
}

}  // namespace

json version_info(const std::string& requested_version) {
  json j = json::object();
  auto v = Version::parse(requested_version);
  j["cniVersion"] = (v && v->supported()) ? requested_version : kCurrentVersion.to_string();
  j["supportedVersions"] = supported_version_strings();
  return j;
}

int run_plugin(const PluginFuncs& funcs, const EnvLookup& env, std::istream& in, std::ostream& out) {
  std::string error_version;  // the config's version once known
  std::string data;
  int code = 0;
  std::string msg, details;
  try {
    Request req;
    data = read_stream(in);
    req.stdin_data = data;
    req.env = parse_env(env);
    if (req.env.command == Command::Version) {
      out << version_info(requested_version(req.stdin_data)).dump() << '\n';
      out.flush();
      return 0;
    }
    req.conf = parse_netconf(req.stdin_data);
    error_version = req.conf.version.to_string();
    configure_logging(req);
    check_version_gates(req.env.command, req.conf);
    log::debug("start");
    dispatch(funcs, req, out);
    out.flush();
    return 0;
  } catch (const Error& e) {
    code = e.code() == 0 ? kInternal : e.code();
    msg = e.what();
    details = e.details();
  } catch (const json::parse_error& e) {
    code = kDecodeFailure;
    msg = e.what();
  } catch (const std::bad_alloc&) {
    code = kInternal;
    msg = "out of memory";
  } catch (const std::exception& e) {
    code = kInternal;
    msg = e.what();
  } catch (...) {
    code = kInternal;
    msg = "unknown internal error";
  }
  if (error_version.empty()) {
    // Failed before the config was parsed: answer in the caller's version when we speak it.
    auto v = Version::parse(requested_version(data));
    error_version = (v && v->supported()) ? v->to_string() : kCurrentVersion.to_string();
  }
  log::error(msg + (details.empty() ? "" : " (" + details + ")"));
  print_error(out, error_version, code, msg, details);
  return 1;
}

namespace {

// For VERSION only: stdin is optional there, so a terminal or an idle pipe must not block us.
bool stdin_ready_for_version() {
  if (::isatty(STDIN_FILENO)) return false;
  pollfd p{STDIN_FILENO, POLLIN, 0};
  int n;
  do {
    n = ::poll(&p, 1, 100);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

std::string read_fd_all(int fd) {
  std::string data;
  char buf[65536];
  while (data.size() <= kMaxStdinBytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(kIoFailure, "failed to read stdin: " + std::string(std::strerror(errno)));
    }
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

}  // namespace

int run_plugin_main(const PluginFuncs& funcs) {
  const char* cmd = std::getenv("CNI_COMMAND");
  if ((cmd == nullptr || *cmd == '\0') && !funcs.about.empty()) {
    // Run by hand, not by a runtime: say what this is, as the reference plugins do (on stderr).
    std::string versions;
    for (const auto& v : supported_version_strings()) versions += (versions.empty() ? "" : ", ") + v;
    const std::string text = funcs.about + "\nCNI protocol versions supported: " + versions + "\n";
    (void)!::write(STDERR_FILENO, text.data(), text.size());
    return 0;
  }
  // Read fd 0 directly (no iostream sync cost), then run the testable stream-based boundary.
  std::string data;
  try {
    const bool version = cmd != nullptr && std::string_view(cmd) == "VERSION";
    if (!version || stdin_ready_for_version()) data = read_fd_all(STDIN_FILENO);
  } catch (const Error& e) {
    std::ostringstream out;
    print_error(out, kCurrentVersion.to_string(), e.code(), e.what(), {});
    const std::string s = out.str();
    (void)!::write(STDOUT_FILENO, s.data(), s.size());
    return 1;
  }
  std::istringstream in(std::move(data));
  std::ostringstream out;
  const int rc = run_plugin(funcs, process_env(), in, out);
  const std::string s = out.str();
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    off += static_cast<std::size_t>(n);
  }
  return rc;
}

}  // namespace tether::cni
