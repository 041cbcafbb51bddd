#pragma once
// Sees every open(2) of one file, by any process (inotify IN_OPEN). Lets a test show that a code
// path never touched a lock file at all, where a latency bound could only suggest it did not wait.
// The kernel queues the event inside open() itself, so once a child process has exited its opens
// are already readable: no sleeping or polling for them. Header-only: unit and integration tests.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace tether::testing {

class OpenWatch {
 public:
  explicit OpenWatch(const std::string& path) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0 || ::inotify_add_watch(fd_, path.c_str(), IN_OPEN) < 0)
      throw std::runtime_error("inotify watch on '" + path + "' failed");
  }
  ~OpenWatch() { ::close(fd_); }
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;

  // True when the file was opened since the last call (drains the queued events, never waits).
  // Identical unread events are merged by the kernel, so this says "opened", not how often.
  bool opened() {
    bool any = false;
    alignas(inotify_event) char buf[4096];
    for (ssize_t len; (len = ::read(fd_, buf, sizeof buf)) > 0;)
      for (const char* p = buf; p < buf + len;) {
        const auto* e = reinterpret_cast<const inotify_event*>(p);
        any = any || (e->mask & IN_OPEN) != 0;
        p += sizeof(inotify_event) + e->len;
      }
    return any;
  }
  // Blocks until the file is opened (for a process that must react to someone else's open).
  void wait_opened() {
    while (!opened()) {
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, -1);
    }
  }

 private:
  int fd_;
};

}  // namespace tether::testing
