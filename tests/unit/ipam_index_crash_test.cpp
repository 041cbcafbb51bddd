// Regression (crash consistency): a tether-ipam killed while rewriting the lease index
// snapshot (between creating the temp file and renaming it) left `.tether-index/.tether-tmp.*`
// behind for good; nothing ever removed it. The crash also leaves the index stale, and the rebuild
// that follows must sweep it, without touching the index files themselves.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "ipam/file_store.hpp"

namespace tether::ipam {
namespace {

namespace fs = std::filesystem;

net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

TEST(IpamIndexCrash, RebuildSweepsTempFilesOfAKilledIndexWriter) {
  char tmpl[] = "/tmp/tether-ipam-idx-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  const StoreLocation loc{root + "/data", "net1"};
  const std::string index = root + "/data/net1/.tether-index";
  {
    FileStore s(loc, FileStore::Open::kCreate);
    ASSERT_TRUE(s.reserve(ip("10.1.0.2"), {"ctrA", "eth0"}));
    ASSERT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
  }
  ASSERT_TRUE(fs::exists(index + "/snapshot"));
  // The killed writer's leftover, and the lease change it made before dying (stale stamp).
  const std::string leftover = index + "/.tether-tmp.999999.7.snapshot";
  std::ofstream(leftover) << "ctrZ@eth0 10.1.0.9\n";
  std::ofstream(root + "/data/net1/10.1.0.3") << "ctrB\r\neth0";
  {
    FileStore s(loc, FileStore::Open::kIfExists);
    EXPECT_EQ(s.find_by_owner({"ctrB", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.3")});
    EXPECT_EQ(s.find_by_owner({"ctrA", "eth0"}), std::vector<net::IpAddress>{ip("10.1.0.2")});
    EXPECT_TRUE(s.find_by_owner({"ctrZ", "eth0"}).empty());
  }
  EXPECT_FALSE(fs::exists(leftover)) << "temp leftover in the index dir must be swept";
  EXPECT_TRUE(fs::exists(index + "/snapshot"));
  fs::remove_all(root);
}

}  // namespace
}  // namespace tether::ipam
