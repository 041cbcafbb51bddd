#pragma once
// Shared helpers for the tether-ipam binary tests: a temp dataDir, config text, and running the
// real binaries (tether-ipam, /usr/lib/cni/host-local) with CNI env. No netns needed: IPAM only
// touches files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"

namespace tether::testing {

inline constexpr const char* kHostLocal = "/usr/lib/cni/host-local";

class IpamBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) GTEST_SKIP() << "integration tests run as root";
    char tmpl[] = "/tmp/tether-ipam-it-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    data_dir_ = tmpl;
  }
  void TearDown() override {
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  // A config for network "net1" with the given `ranges` JSON (and optional extra ipam keys).
  std::string conf(const std::string& ranges = R"([[{"subnet":"10.1.0.0/24"}]])", const std::string& version = "1.1.0",
                   const std::string& extra_ipam = "", const std::string& extra_top = "") const {
    return R"({"cniVersion":")" + version + R"(","name":"net1","type":"bridge",)" + extra_top +
           R"("ipam":{"type":"tether-ipam","dataDir":")" + data_dir_ + R"(","ranges":)" + ranges + extra_ipam + "}}";
  }

  static std::map<std::string, std::string> env(const std::string& cmd, const std::string& id,
                                                const std::string& ifname = "eth0", const std::string& args = "") {
    std::map<std::string, std::string> e{{"CNI_COMMAND", cmd}, {"CNI_PATH", "/usr/lib/cni"}};
    if (!id.empty()) {
      e["CNI_CONTAINERID"] = id;
      e["CNI_IFNAME"] = ifname;
      e["CNI_NETNS"] = "/proc/self/ns/net";
    }
    if (!args.empty()) e["CNI_ARGS"] = args;
    return e;
  }

  static PluginRun ipam(const std::string& cmd, const std::string& id, const std::string& stdin_data,
                        const std::string& ifname = "eth0", const std::string& args = "") {
    return run_plugin(TETHER_IPAM_BIN, env(cmd, id, ifname, args), stdin_data);
  }
  static PluginRun host_local(const std::string& cmd, const std::string& id, const std::string& stdin_data,
                              const std::string& ifname = "eth0") {
    return run_plugin(kHostLocal, env(cmd, id, ifname), stdin_data);
  }

  // ADD that must succeed; returns the parsed result.
  static nlohmann::json add_ok(const std::string& id, const std::string& stdin_data, const std::string& ifname = "eth0",
                               const std::string& args = "") {
    const PluginRun r = ipam("ADD", id, stdin_data, ifname, args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
  }
  static int error_code(const PluginRun& r) {
    try {
      return nlohmann::json::parse(r.out).value("code", -1);
    } catch (...) {
      return -1;
    }
  }

  std::string net_dir() const { return data_dir_ + "/net1"; }
  std::string read(const std::string& name) const {
    std::ifstream in(net_dir() + "/" + name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool has(const std::string& name) const { return std::filesystem::exists(net_dir() + "/" + name); }
  // Lease files (named by an IP) → content.
  std::map<std::string, std::string> leases() const {
    std::map<std::string, std::string> out;
    if (!std::filesystem::exists(net_dir())) return out;
    for (const auto& e : std::filesystem::directory_iterator(net_dir())) {
      const std::string n = e.path().filename();
      if (n.find_first_not_of("0123456789abcdef.:") == std::string::npos &&
          n.find_first_of(".:") != std::string::npos && !e.is_directory())
        out[n] = read(n);
    }
    return out;
  }

  std::string data_dir_;
};

}  // namespace tether::testing
