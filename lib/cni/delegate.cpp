#include "lib/cni/delegate.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "lib/cni/error.hpp"
#include "lib/cni/result_json.hpp"
#include "lib/log/log.hpp"
#include "lib/sys/sys_error.hpp"
#include "lib/sys/unique_fd.hpp"

extern char** environ;

namespace tether::cni {
namespace {

constexpr std::size_t kMaxChildOutput = 16 * 1024 * 1024;

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The child's environment: ours, with the CNI_* variables taken from the request (so an injected
// environment in tests and the real one behave the same) and CNI_COMMAND replaced.
std::vector<std::string> child_env(Command cmd, const Env& env) {
  static constexpr std::string_view kCniVars[] = {"CNI_COMMAND=", "CNI_CONTAINERID=", "CNI_NETNS=",       "CNI_IFNAME=",
                                                  "CNI_ARGS=",    "CNI_PATH=",        "TETHER_DELEGATED="};
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view var(*e);
    bool replaced = false;
    for (auto prefix : kCniVars) replaced = replaced || var.starts_with(prefix);
    if (!replaced) out.emplace_back(var);
  }
  out.push_back(std::string("CNI_COMMAND=") + command_name(cmd));
  out.push_back(std::string(kDelegatedMarker) + "=1");
  const std::pair<const char*, const std::string*> vars[] = {{"CNI_CONTAINERID=", &env.container_id},
                                                             {"CNI_NETNS=", &env.netns},
                                                             {"CNI_IFNAME=", &env.ifname},
                                                             {"CNI_ARGS=", &env.args},
                                                             {"CNI_PATH=", &env.path}};
  for (const auto& [name, value] : vars) {
    if (!value->empty()) out.push_back(name + *value);
  }
  return out;
}

// stdin via a memfd: the child can read it at its own pace while we only drain its stdout,
// so no write/read deadlock is possible.
sys::UniqueFd stdin_memfd(const std::string& data) {
  sys::UniqueFd fd(::memfd_create("cni-stdin", MFD_CLOEXEC));
  if (!fd) sys::throw_errno("memfd_create for delegate stdin");
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      sys::throw_errno("write delegate stdin");
    }
    off += static_cast<std::size_t>(n);
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) sys::throw_errno("lseek delegate stdin");
  return fd;
}

struct ChildOutput {
  int status = 0;
  std::string out;
};

class SpawnActions {
 public:
  SpawnActions() { ::posix_spawn_file_actions_init(&a_); }
  ~SpawnActions() { ::posix_spawn_file_actions_destroy(&a_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &a_; }

 private:
  posix_spawn_file_actions_t a_;
};

ChildOutput run_child(const std::string& path, Command cmd, const Request& req) {
  sys::UniqueFd in = stdin_memfd(req.stdin_data);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) sys::throw_errno("pipe for delegate stdout");
  sys::UniqueFd rd(p[0]), wr(p[1]);

  // dup2 clears FD_CLOEXEC on the target, so only fds 0..2 reach the plugin.
  SpawnActions actions;
  ::posix_spawn_file_actions_adddup2(actions.get(), in.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), wr.get(), STDOUT_FILENO);

  std::vector<std::string> env = child_env(cmd, req.env);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = path;
  char* argv[] = {argv0.data(), nullptr};

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, path.c_str(), actions.get(), nullptr, argv, envp.data());
  // Like libcni: a binary being replaced ("text file busy") is retried a few times.
  for (int attempt = 0; rc == ETXTBSY && attempt < 5; ++attempt) {
    ::usleep(200 * 1000);
    rc = ::posix_spawn(&pid, path.c_str(), actions.get(), nullptr, argv, envp.data());
  }
  if (rc != 0) fail(kInternal, "exec plugin '" + path + "': " + std::strerror(rc));
  wr.reset();
  in.reset();

  ChildOutput result;
  char buf[65536];
  bool truncated = false;
  for (;;) {
    const ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // still reap the child below
    }
    if (result.out.size() < kMaxChildOutput) {
      result.out.append(buf, static_cast<std::size_t>(n));
    } else {
      truncated = true;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) sys::throw_errno("waitpid for plugin '" + path + "'");
  }
  result.status = status;
  if (truncated) fail(kInternal, "plugin '" + path + "' wrote more than " + std::to_string(kMaxChildOutput) + " bytes");
  return result;
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// A failed delegate's error JSON is passed up unchanged (code, msg, details), as libcni does.
[[noreturn]] void rethrow_child_error(const std::string& type, const ChildOutput& c) {
  json j = json::parse(c.out, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto code = j.find("code");
    auto msg = j.find("msg");
    if (code != j.end() && code->is_number_integer() && msg != j.end() && msg->is_string()) {
      std::string details;
      if (auto d = j.find("details"); d != j.end() && d->is_string()) details = d->get<std::string>();
      int c_code = code->get<int>();
      throw Error(msg->get<std::string>(), c_code == 0 ? kInternal : c_code, details);
    }
  }
  fail(kInternal, "plugin '" + type + "' failed (" + describe_exit(c.status) + ") with unparseable output: '" +
                      trimmed(c.out) + "'");
}

ChildOutput delegate(Command cmd, const std::string& type, const Request& req) {
  if (req.env.delegated)
    invalid_config("ipam.type", "value '" + type + "': refusing to run it: this plugin was itself run as a delegate (" +
                                    kDelegatedMarker + " is set), so the config's IPAM leads back here (a loop)");
  const std::string path = find_plugin(type, req.env.path);
  log::debug(std::string("delegating ") + command_name(cmd) + " to " + path);
  ChildOutput c = run_child(path, cmd, req);
  if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0) rethrow_child_error(type, c);
  return c;
}

}  // namespace

std::string find_plugin(const std::string& type, const std::string& cni_path) {
  if (type.empty()) invalid_config("ipam.type", "missing plugin type");
  if (type.find_first_of("/\\") != std::string::npos || type == "." || type == "..")
    invalid_config("ipam.type", "value '" + type + "': must be a plain file name");
  if (cni_path.empty()) fail(kInvalidEnv, "cannot find plugin '" + type + "': CNI_PATH is empty or unset");
  std::size_t pos = 0;
  while (pos <= cni_path.size()) {
    auto end = cni_path.find(':', pos);
    if (end == std::string::npos) end = cni_path.size();
    const std::string dir = cni_path.substr(pos, end - pos);
    pos = end + 1;
    if (dir.empty()) continue;
    std::string candidate = dir + (dir.back() == '/' ? "" : "/") + type;
    if (is_executable_file(candidate)) return candidate;
  }
  invalid_config("ipam.type", "plugin '" + type + "' not found in CNI_PATH '" + cni_path + "'");
}

Result delegate_add(const std::string& type, const Request& req) {
  ChildOutput c = delegate(Command::Add, type, req);
  json j = json::parse(c.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) fail(kInternal, "plugin '" + type + "' ADD printed no result JSON: '" + trimmed(c.out) + "'");
  return result_from_json(j, req.conf.version, "result of plugin '" + type + "'");
}

void delegate_del(const std::string& type, const Request& req) { delegate(Command::Del, type, req); }
void delegate_check(const std::string& type, const Request& req) { delegate(Command::Check, type, req); }
void delegate_gc(const std::string& type, const Request& req) { delegate(Command::Gc, type, req); }
void delegate_status(const std::string& type, const Request& req) { delegate(Command::Status, type, req); }

}  // namespace tether::cni
