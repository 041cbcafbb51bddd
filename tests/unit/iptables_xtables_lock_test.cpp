// The xtables lock is plain flock on a file: testable without root on a temp file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "lib/iptables/xtables_lock.hpp"
#include "lib/util/error.hpp"
#include "tests/open_watch.hpp"

namespace tether::iptables {
namespace {

class XtablesLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-xtlock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/xtables.lock";
    ::setenv("XTABLES_LOCKFILE", path_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("XTABLES_LOCKFILE");
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(XtablesLockTest, HonoursXtablesLockfile) {
  EXPECT_EQ(XtablesLock::path(), path_);
  ::setenv("XTABLES_LOCKFILE", "", 1);  // empty = unset, like iptables
  EXPECT_EQ(XtablesLock::path(), "/run/xtables.lock");
}

TEST_F(XtablesLockTest, ExcludesOtherHoldersAndTimesOutWithCode11) {
  auto held = XtablesLock::acquire();
  EXPECT_EQ(::access(path_.c_str(), F_OK), 0);  // created on demand
  // A separate open file description (what another process would have) must not get it.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_FALSE(XtablesLock::try_acquire());

  const auto t0 = std::chrono::steady_clock::now();
  try {
    XtablesLock::acquire(std::chrono::milliseconds(150));
    ADD_FAILURE() << "acquired a held lock";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 11);
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
  }
  // Returning at all, with code 11, while `held` still holds the lock: it gave up on its own
  // deadline instead of queueing behind the holder. It also waited its timeout out first.
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_NE(::flock(fd, LOCK_EX | LOCK_NB), 0) << "the holder lost the lock";
  RecordProperty("timeout_150ms_waited_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
  ::close(fd);
}

TEST_F(XtablesLockTest, ReleasedOnDestructionAndWaitersGetIt) {
  { auto held = XtablesLock::acquire(); }
  EXPECT_TRUE(XtablesLock::try_acquire());
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  // The other holder lets go once our acquire below has opened the lock file, i.e. while it is
  // already waiting: ordered by the open itself, not by a sleep. The timeout is only a hang guard.
  tether::testing::OpenWatch opens(path_);
  const pid_t child = ::fork();
  if (child == 0) {
    opens.wait_opened();
    ::_exit(0);
  }
  ::close(fd);  // our copy of the description; the child's copy keeps the lock until it exits
  EXPECT_NO_THROW(XtablesLock::acquire(std::chrono::seconds(60)));
  ::waitpid(child, nullptr, 0);
}

}  // namespace
}  // namespace tether::iptables
