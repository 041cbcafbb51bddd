#pragma once
// Runs a built plugin binary (tether / tether-ipam) with exactly the given environment and stdin,
// for the hostile-input tests. Feeds stdin and drains stdout/stderr together (poll), so stdin far
// larger than a pipe buffer works whether or not the plugin reads it all; kills it after a deadline.
// The child runs in its own empty network namespace when we are root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::hostile {

struct RunResult {
  int rc = -1;
  std::string out, err;
  nlohmann::json j;  // stdout parsed (discarded when not JSON)
  int code() const { return j.is_object() && j.contains("code") && j["code"].is_number() ? j["code"].get<int>() : -1; }
  std::string msg() const {
    return j.is_object() && j.contains("msg") && j["msg"].is_string() ? j["msg"].get<std::string>() : "";
  }
};

inline std::string bin(const char* name) { return std::string(TETHER_BIN_DIR) + "/" + name; }

inline RunResult exec_plugin(const std::string& binary, const std::map<std::string, std::string>& vars,
                             const std::string& in, int timeout_ms = 20000) {
  RunResult r;
  int pin[2], pout[2], perr[2];
  if (::pipe2(pin, O_CLOEXEC) || ::pipe2(pout, O_CLOEXEC) || ::pipe2(perr, O_CLOEXEC)) {
    ADD_FAILURE() << "pipe";
    return r;
  }
  std::vector<std::string> env;
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string argv0 = binary;
  char* argv[] = {argv0.data(), nullptr};
  const pid_t pid = ::fork();
  if (pid == 0) {
    // As root, run in a private, empty network namespace: even a plugin that wrongly accepted a
    // hostile input could not touch the machine's links (it dies with the process).
    if (::geteuid() == 0 && ::unshare(CLONE_NEWNET) != 0) _exit(126);
    ::dup2(pin[0], 0);
    ::dup2(pout[1], 1);
    ::dup2(perr[1], 2);
    ::execve(argv0.c_str(), argv, envp.data());
    _exit(127);
  }
  ::close(pin[0]);
  ::close(pout[1]);
  ::close(perr[1]);
  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(pin[1], F_SETFL, O_NONBLOCK);
  std::size_t off = 0;
  if (in.empty()) {
    ::close(pin[1]);
    pin[1] = -1;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int open = 2;
  char buf[65536];
  while (open > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd fds[3] = {{pout[0], POLLIN, 0}, {perr[0], POLLIN, 0}, {pin[1], POLLOUT, 0}};
    if (::poll(fds, 3, static_cast<int>(left)) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(i == 0 ? pout[0] : perr[0]);
        (i == 0 ? pout[0] : perr[0]) = -1;
        --open;
      }
    }
    if (pin[1] >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::write(pin[1], in.data() + off, in.size() - off);
      if (n > 0) off += static_cast<std::size_t>(n);
      if (off == in.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        ::close(pin[1]);  // EOF, or the plugin stopped reading (EPIPE): both fine
        pin[1] = -1;
      }
    }
  }
  for (int fd : {pin[1], pout[0], perr[0]}) {
    if (fd >= 0) ::close(fd);
  }
  if (open > 0) {
    ::kill(pid, SIGKILL);
    ADD_FAILURE() << binary << " did not finish within " << timeout_ms << " ms";
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.j = nlohmann::json::parse(r.out, nullptr, false);
  return r;
}

}  // namespace tether::hostile
