// FileStore in a mkdtemp dir: host-local's layout, the lease index, crash leftovers, flock.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ipam/allocator.hpp"
#include "ipam/file_store.hpp"
#include "ipam/range_parse.hpp"
#include "lib/cni/error.hpp"
#include "tests/open_watch.hpp"

namespace tether::ipam {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

// Built with += (GCC 12 misreports "a" + to_string(..) + "b" chains under -O3 -Wrestrict).
std::string cid(int p, int i) {
  std::string s = "c";
  s += std::to_string(p);
  s += '-';
  s += std::to_string(i);
  return s;
}

class IpamFileStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-ipam-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    loc_ = {root_ + "/data", "net1"};
    dir_ = root_ + "/data/net1";
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string read(const std::string& name) const {
    std::ifstream in(dir_ + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Writes a file the way host-local (or a crash) would: directly, no index update.
  void write_raw(const std::string& name, const std::string& content) const {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << content;
  }
  // The index stamp matches the directory mtime: the next session trusts the index without a rebuild.
  bool index_fresh() const {
    struct stat st {};
    if (::stat(dir_.c_str(), &st) != 0) return false;
    char want[64];
    std::snprintf(want, sizeof want, "%020lld.%09ld\n", static_cast<long long>(st.st_mtim.tv_sec),
                  static_cast<long>(st.st_mtim.tv_nsec));
    return read(".tether-index/stamp") == want;
  }
  std::set<std::string> lease_names() const {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string n = e.path().filename();
      if (net::IpAddress::parse(n)) out.insert(n);
    }
    return out;
  }

  std::string root_, dir_;
  StoreLocation loc_;
};

TEST_F(IpamFileStore, WritesHostLocalLayout) {
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    EXPECT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    EXPECT_FALSE(s.reserve(ip("10.1.0.2"), {"ctrB", "eth0"}));
    EXPECT_TRUE(s.reserve(ip("fd00:1::2"), {"ctrA", "eth0"}));
    s.set_last_reserved(0, ip("10.1.0.2"));
  }
  EXPECT_EQ(read("10.1.0.2"), "ctrA\r\neth0");
  EXPECT_EQ(read("fd00:1::2"), "ctrA\r\neth0");
  EXPECT_EQ(read("last_reserved_ip.0"), "10.1.0.2");
  EXPECT_TRUE(fs::exists(dir_ + "/lock"));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/10.1.0.2").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u) << "each lease is its own inode";
  // No temp file survives a session.
  for (const auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tether-tmp"), std::string::npos) << e.path();
}

TEST_F(IpamFileStore, DurableModeWritesTheSameLayout) {
  loc_.fsync = true;
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    s.find_by_owner({"ctrA", "eth0"});
    EXPECT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    s.set_last_reserved(0, ip("10.1.0.2"));
    s.finish();
  }
  EXPECT_EQ(read("10.1.0.2"), "ctrA\r\neth0");
  EXPECT_EQ(read("last_reserved_ip.0"), "10.1.0.2");
  EXPECT_TRUE(index_fresh());
}

TEST_F(IpamFileStore, FindByOwnerAcrossSessionsAndRelease) {
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    ASSERT_TRUE(s.reserve(ip("10.1.0.3"), {"ctrA", "eth1"}));
    ASSERT_TRUE(s.reserve(ip("fd00::3"), {"ctrA", "eth1"}));
  }
  {
    FileStore s(loc_, FileStore::Open::kIfExists);
    EXPECT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
    EXPECT_EQ(s.find_by_owner({"ctrA", "eth1"}).size(), 2u);
    EXPECT_TRUE(s.find_by_owner({"ctrB", "eth0"}).empty());
    s.release(ip("10.1.0.3"));
    s.release(ip("10.1.0.99"));  // absent: fine
  }
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({"ctrA", "eth1"}), std::vector<net::IpAddress>{ip("fd00::3")});
  EXPECT_EQ(lease_names(), (std::set<std::string>{"10.1.0.2", "fd00::3"}));
}

TEST_F(IpamFileStore, IndexNoticesLeasesWrittenAndRemovedByOthers) {
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    ASSERT_TRUE(s.find_by_owner({"ctrA", "eth0"}).size() == 1);  // index built and sealed
  }
  write_raw("10.1.0.7", "ctrH\r\neth0");  // host-local's ADD
  fs::remove(dir_ + "/10.1.0.2");         // host-local's DEL
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({"ctrH", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.7")});
  EXPECT_TRUE(s.find_by_owner({"ctrA", "eth0"}).empty());
}

TEST_F(IpamFileStore, EverySessionLeavesTheIndexSealed) {
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    s.find_by_owner({"ctrA", "eth0"});
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    ASSERT_TRUE(s.reserve(ip("10.1.0.3"), {"ctrB", "eth0"}));
    s.set_last_reserved(0, ip("10.1.0.3"));
  }
  EXPECT_TRUE(index_fresh());
  {
    FileStore s(loc_, FileStore::Open::kIfExists);
    for (const auto& l : s.list()) {
      if (l.owner && l.owner->container_id == "ctrB") s.release(l.ip);  // what GC does
    }
  }
  EXPECT_TRUE(index_fresh()) << "list() + release() keep the index current";
  EXPECT_TRUE(read(".tether-index/journal").ends_with("-ctrB@eth0 10.1.0.3\n")) << read(".tether-index/journal");
  {
    FileStore s(loc_, FileStore::Open::kIfExists);
    EXPECT_TRUE(s.find_by_owner({"ctrB", "eth0"}).empty());
    EXPECT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
  }
  write_raw("10.1.0.9", "x\r\neth0");
  EXPECT_FALSE(index_fresh()) << "a foreign lease file makes it stale";
}

TEST_F(IpamFileStore, IndexThatDisagreesWithFilesIsRebuilt) {
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    ASSERT_TRUE(s.reserve(ip("10.1.0.3"), {"ctrB", "eth0"}));
    s.find_by_owner({"ctrA", "eth0"});
  }
  // Corrupt the index without touching the network directory (stamp still matches).
  std::ofstream(dir_ + "/.tether-index/journal", std::ios::app) << "-ctrA@eth0 10.1.0.2\n+ctrA@eth0 10.1.0.3\n";
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
}

TEST_F(IpamFileStore, BrokenIndexDirectoryFallsBackToScanning) {
  fs::create_directories(dir_);
  write_raw(".tether-index", "not a directory");
  write_raw("10.1.0.5", "ctrA\r\neth0");
  {
    FileStore s(loc_, FileStore::Open::kIfExists);
    EXPECT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.5")});
    EXPECT_TRUE(s.reserve(ip("10.1.0.6"), {"ctrB", "eth0"}));
    s.release(ip("10.1.0.5"));
  }
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_TRUE(s.find_by_owner({"ctrA", "eth0"}).empty());
  EXPECT_EQ(s.find_by_owner({"ctrB", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.6")});
}

TEST_F(IpamFileStore, LegacyIdOnlyFilesAreFoundWithEmptyIfname) {
  fs::create_directories(dir_);
  write_raw("10.1.0.5", "ctrOld\n");
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({"ctrOld", ""}), std::vector<net::IpAddress>{ip("10.1.0.5")});
  EXPECT_TRUE(s.find_by_owner({"ctrOld", "eth0"}).empty());
}

TEST_F(IpamFileStore, CrashLeftoversNeverBecomeSomeoneElsesLease) {
  fs::create_directories(dir_);
  write_raw("10.1.0.2", "");                        // host-local died between create and write
  write_raw("10.1.0.3", std::string("\0\0\0", 3));  // zero-filled after a power cut
  write_raw("10.1.0.4", "ctr A\r\neth0");           // not a valid container ID
  write_raw(".tether-tmp.999999.0.lease", "ctrZ\r\neth0");
  FileStore s(loc_, FileStore::Open::kIfExists);
  // The empty file is reclaimed under the lock; garbage keeps its address out of use.
  EXPECT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrN", "eth0"}));
  EXPECT_FALSE(s.reserve(ip("10.1.0.3"), {"ctrN", "eth1"}));
  EXPECT_FALSE(s.reserve(ip("10.1.0.4"), {"ctrN", "eth1"}));
  EXPECT_EQ(read("10.1.0.2"), "ctrN\r\neth0");
  EXPECT_TRUE(s.find_by_owner({"ctrZ", "eth0"}).empty());
  EXPECT_TRUE(s.find_by_owner({"ctr A", "eth0"}).empty());
  EXPECT_FALSE(fs::exists(dir_ + "/.tether-tmp.999999.0.lease")) << "temp leftover removed";
  int garbage = 0;
  for (const auto& l : s.list()) garbage += l.owner ? 0 : 1;
  EXPECT_EQ(garbage, 2);
}

TEST_F(IpamFileStore, LastReservedToleratesGarbage) {
  FileStore s(loc_, FileStore::Open::kCreate);
  EXPECT_FALSE(s.last_reserved(0));
  s.set_last_reserved(1, ip("fd00::9"));
  EXPECT_EQ(s.last_reserved(1), ip("fd00::9"));
  write_raw("last_reserved_ip.2", "10.1.0.9\n");
  EXPECT_EQ(s.last_reserved(2), ip("10.1.0.9"));
  write_raw("last_reserved_ip.3", "garbage");
  EXPECT_FALSE(s.last_reserved(3));
}

// Containers that come and go: the journal (read by every lookup) stays small.
TEST_F(IpamFileStore, ChurnKeepsTheJournalSmall) {
  const net::IpAddress a = ip("10.1.0.5");
  for (int i = 0; i < 3000; ++i) {
    FileStore s(loc_, FileStore::Open::kCreate);
    const Owner o{cid(0, i), "eth0"};
    ASSERT_TRUE(s.find_by_owner(o).empty());  // as an ADD does first: the index is in use
    ASSERT_TRUE(s.reserve(a, o));
    s.release(a);
  }
  const std::string journal = dir_ + "/.tether-index/journal";  // gone right after a compaction
  EXPECT_LE(fs::exists(journal) ? fs::file_size(journal) : 0u, 17u * 1024) << "3,000 +/- pairs are ~150 KB";
  EXPECT_TRUE(index_fresh());
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_TRUE(s.find_by_owner({cid(0, 2999), "eth0"}).empty());
}

TEST_F(IpamFileStore, JournalIsCompactedIntoTheSnapshot) {
  // ~330 KB of journal lines: past the compaction threshold many times.
  for (int round = 0; round < 5; ++round) {
    FileStore s(loc_, FileStore::Open::kCreate);
    s.find_by_owner({"x", "eth0"});
    net::IpAddress a = net::IpAddress::v4((10u << 24) | ((10u + static_cast<unsigned>(round)) << 16) | 1u);
    for (int i = 0; i < 2000; ++i, a = a.next()) {
      const Owner o{cid(round, i), "eth0"};
      ASSERT_TRUE(s.reserve(a, o));
      if (i % 2) s.release(a);
    }
  }
  EXPECT_GT(fs::file_size(dir_ + "/.tether-index/snapshot"), 40u * 1024) << "compaction wrote a snapshot";
  EXPECT_LE(fs::file_size(dir_ + "/.tether-index/journal"), fs::file_size(dir_ + "/.tether-index/snapshot") + 1024)
      << "folded in once larger than the snapshot";
  EXPECT_TRUE(index_fresh());
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({cid(0, 0), "eth0"}).size(), 1u);
  EXPECT_TRUE(s.find_by_owner({cid(0, 1), "eth0"}).empty());
  EXPECT_EQ(s.find_by_owner({cid(4, 1998), "eth0"}).size(), 1u);
  EXPECT_TRUE(s.find_by_owner({cid(4, 1999), "eth0"}).empty());
}

TEST_F(IpamFileStore, VeryLongContainerIdFallsBackToScanning) {
  const std::string long_id(250, 'a');
  {
    FileStore s(loc_, FileStore::Open::kCreate);
    s.find_by_owner({"x", "eth0"});
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {long_id, "eth0"}));
  }
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_EQ(s.find_by_owner({long_id, "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
  s.release(ip("10.1.0.2"));
  EXPECT_TRUE(s.find_by_owner({long_id, "eth0"}).empty());
}

TEST_F(IpamFileStore, MissingDirectoryWithIfExistsHoldsNothing) {
  FileStore s(loc_, FileStore::Open::kIfExists);
  EXPECT_FALSE(s.exists());
  EXPECT_TRUE(s.find_by_owner({"a", "eth0"}).empty());
  s.release(ip("10.1.0.2"));
  EXPECT_FALSE(fs::exists(dir_)) << "DEL must not create the store";
}

// Forks a child that holds the store lock until it reads a byte (or EOF, when the test process
// is gone) from the `release` pipe.
pid_t hold_lock_in_child(const StoreLocation& loc, int ready_w, const int release[2]) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(release[1]);
    const int release_r = release[0];
    {
      FileStore s(loc, FileStore::Open::kCreate);
      char c = 1;
      (void)!::write(ready_w, &c, 1);
      (void)!::read(release_r, &c, 1);
    }
    ::_exit(0);
  }
  return pid;
}

TEST_F(IpamFileStore, LockTimesOutWithCode11AndStatusScanNeverWaits) {
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t child = hold_lock_in_child(loc_, ready[1], release);
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  // The child holds the lock until told otherwise (below), so a waiter gives up on its own deadline.
  tether::testing::OpenWatch lock_opens(loc_.data_dir + "/" + loc_.network + "/lock");
  const auto t0 = std::chrono::steady_clock::now();
  try {
    FileStore s(loc_, FileStore::Open::kCreate, 100ms);
    ADD_FAILURE() << "lock was taken while another process held it";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), cni::kTryAgainLater) << e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 100ms);          // waited for its timeout, not given up at the first try
  EXPECT_TRUE(lock_opens.opened());  // (the watch sees a lock user)
  // The STATUS scan: returning at all while the child holds the lock shows it does not wait for it,
  // and not opening the lock file shows it does not even try (no wait-then-give-up).
  const auto t1 = std::chrono::steady_clock::now();
  EXPECT_TRUE(FileStore::held_addresses_unlocked(loc_).empty());
  const auto scanned = std::chrono::steady_clock::now() - t1;
  EXPECT_FALSE(lock_opens.opened()) << "the STATUS scan opened the store's lock file";
  RecordProperty("lock_timeout_wait_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(waited).count()));
  RecordProperty("scan_with_lock_held_us",
                 static_cast<int>(std::chrono::duration_cast<std::chrono::microseconds>(scanned).count()));
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  { FileStore s(loc_, FileStore::Open::kCreate); }  // the child let go (it exited): ours now
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

TEST_F(IpamFileStore, ConcurrentProcessesNeverShareAnAddress) {
  Plan plan;
  plan.store = loc_;
  plan.range_sets = {parse_range_set(cni::json::parse(R"([{"subnet":"10.1.0.0/24"}])"), "r")};
  plan.requested.resize(1);
  constexpr int kProcs = 8, kEach = 10;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      int rc = 0;
      for (int i = 0; i < kEach; ++i) {
        try {
          FileStore s(loc_, FileStore::Open::kCreate, 10s);
          allocate_all(plan, s, {cid(p, i), "eth0"});
        } catch (...) {
          rc = 1;
        }
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    ::waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_EQ(lease_names().size(), static_cast<std::size_t>(kProcs * kEach));
  std::set<std::string> owners;
  for (const auto& n : lease_names()) owners.insert(read(n));
  EXPECT_EQ(owners.size(), static_cast<std::size_t>(kProcs * kEach)) << "one owner per address";
  // The index agrees with the files for every owner.
  FileStore s(loc_, FileStore::Open::kIfExists);
  for (int p = 0; p < kProcs; ++p) {
    for (int i = 0; i < kEach; ++i) EXPECT_EQ(s.find_by_owner({cid(p, i), "eth0"}).size(), 1u);
  }
}

}  // namespace
}  // namespace tether::ipam
