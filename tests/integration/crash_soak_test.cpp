// Crash consistency: the real tether binary runs ADD/DEL cycles (ipMasq + a port mapping, in-process
// tether-ipam on a temp dataDir) while a supervisor SIGKILLs it at random instants. Each worker plays
// the runtime for its own containers: after a killed or failed call it repeats DEL until one
// succeeds, then ADDs again. After every successful ADD the store and the live containers' addresses
// are read back: no address may be held by two live containers. At the end DEL (with and without
// netns) + GC with an empty valid list must leave no veth, no bridge port, no lease, no firewall
// object of ours (legacy rule or nftables table), no firewall state file and no store file other
// than the lock, the round-robin cursors and the index dir. Runs once per firewall backend.
// Seed: TETHER_SOAK_SEED (default: time); kills: TETHER_SOAK_KILLS (default 1000).
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fixture/netns_fixture.hpp"
#include "lib/net/ip.hpp"
#include "lib/netlink/addr.hpp"
#include "lib/netlink/link.hpp"
#include "lib/netns/netns.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kNet = "crashnet";
constexpr const char* kBridge = "ttcr0";
constexpr int kContainers = 6;  // 3 per worker; /28 = 13 usable addresses, so addresses are reused
constexpr int kWorkers = 2;

long env_long(const char* name, long dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : dflt;
}

struct Outcome {
  bool killed = false;  // SIGKILLed by us before it exited
  int exit_code = -1;
  std::string out, err;
  std::chrono::microseconds took{0};
};

// fork+exec of the plugin in `netns_fd`'s netns; if kill_after is set, SIGKILL at that instant
// (unless it already exited). Everything the child needs is prepared before fork (threads).
Outcome spawn(const std::string& bin, const std::vector<std::string>& env, const std::string& stdin_data, int netns_fd,
              std::optional<std::chrono::microseconds> kill_after) {
  Outcome o;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  std::vector<std::string> env_s = env;
  std::vector<char*> envp;
  for (auto& s : env_s) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string b = bin;
  char* argv[] = {b.data(), nullptr};
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) _exit(126);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execve(b.c_str(), argv, envp.data());
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  // stdin is small (< pipe buffer): write it all and close.
  if (::write(in[1], stdin_data.data(), stdin_data.size()) != static_cast<ssize_t>(stdin_data.size()))
    ADD_FAILURE() << "short stdin write";
  ::close(in[1]);
  if (kill_after) {
    std::this_thread::sleep_until(start + *kill_after);
    ::kill(pid, SIGKILL);  // harmless if it already exited (still a zombie: pid not reused)
  }
  // Drain until EOF on both pipes.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open = 2;
  char buf[4096];
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (open > 0 && Clock::now() < deadline) {
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? o.out : o.err).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  if (open > 0) ::kill(pid, SIGKILL);
  ::close(out[0]);
  ::close(err[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  o.took = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  o.killed = WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
  o.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return o;
}

// Names in a directory (without . and ..); empty if it does not exist.
std::vector<std::string> dir_names(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CrashSoakTest : public NetnsTest, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    NetnsTest::SetUp();
    if (IsSkipped()) return;
    data_dir_ = temp_dir();
    lock_file_ = temp_dir() + "/xtables.lock";
    for (int i = 0; i < kContainers; ++i) ctrs_.push_back(&add_container("cr" + std::to_string(i)));
    host_fd_ = ::open(host().path().c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(host_fd_, 0);
  }
  void TearDown() override {
    if (host_fd_ >= 0) ::close(host_fd_);
    NetnsTest::TearDown();
  }

  json conf(int i, bool gc = false) const {
    json c = nat_bridge_conf(kNet, kBridge, data_dir_, "10.79.0.0/28", GetParam());
    if (gc) {
      c["cni.dev/valid-attachments"] = json::array();
    } else {
      c["runtimeConfig"] = one_port_mapping(30080 + i);
    }
    return c;
  }
  std::vector<std::string> env(const std::string& cmd, int i, bool with_netns = true) const {
    return {"CNI_COMMAND=" + cmd,
            "CNI_CONTAINERID=soak-" + std::to_string(i),
            "CNI_NETNS=" + (with_netns ? ctrs_[i]->path() : std::string()),
            "CNI_IFNAME=eth0",
            "CNI_PATH=" + std::string(TETHER_BIN_DIR),
            "XTABLES_LOCKFILE=" + lock_file_,
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  }
  Outcome call(const std::string& cmd, int i, std::optional<std::chrono::microseconds> kill_after,
               bool with_netns = true, bool gc = false) {
    return spawn(TETHER_PLUGIN_BIN, env(cmd, i, with_netns), conf(i, gc).dump(), host_fd_, kill_after);
  }

  // IPv4 addresses on eth0 in container i (empty if there is no eth0).
  std::vector<std::string> container_addresses(int i) {
    std::vector<std::string> out;
    auto ns = netns::Netns::open(ctrs_[i]->path());
    auto sk = netlink::RtnlSocket::open_in(ns);
    auto l = netlink::find_link(sk, "eth0");
    if (!l) return out;
    for (const auto& a : netlink::list_addresses(sk, l->index))
      if (a.prefix.address().is_v4()) out.push_back(a.prefix.address().to_string());
    return out;
  }

  // The invariant, checked with mu_ held (no live container can start its DEL meanwhile): every
  // live container's address is leased to it in the store, sits on its eth0, and is nobody else's.
  void check_live_invariant(const std::string& when) {
    const std::string dir = data_dir_ + "/" + kNet;
    std::map<std::string, int> holder;
    for (const auto& [i, ip] : live_) {
      ++checks_;
      const std::string owner = read_text(dir + "/" + ip);
      EXPECT_EQ(owner, "soak-" + std::to_string(i) + "\r\neth0") << when << ": lease file of " << ip;
      auto [it, fresh] = holder.emplace(ip, i);
      EXPECT_TRUE(fresh) << when << ": " << ip << " held by live soak-" << it->second << " and soak-" << i;
      const auto addrs = container_addresses(i);
      EXPECT_NE(std::find(addrs.begin(), addrs.end(), ip), addrs.end()) << when << ": soak-" << i << " lacks " << ip;
      for (const auto& [j, other] : live_) {
        if (j == i) continue;
        const auto theirs = container_addresses(j);
        EXPECT_EQ(std::find(theirs.begin(), theirs.end(), ip), theirs.end())
            << when << ": " << ip << " of soak-" << i << " also on live soak-" << j;
      }
    }
    if (::testing::Test::HasFailure()) failed_ = true;
  }

  // One worker: containers w, w+kWorkers, ... ; runs until the shared kill budget is spent.
  void worker(int w, unsigned seed, long kill_target, std::chrono::microseconds max_delay, double kill_prob) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<long> delay(0, max_delay.count());
    std::bernoulli_distribution do_kill(kill_prob);
    std::vector<int> mine;
    for (int i = w; i < kContainers; i += kWorkers) mine.push_back(i);
    std::map<int, bool> dirty;  // may hold state: needs a DEL before the next ADD
    for (std::size_t round = 0; kills_.load() < kill_target && !failed_; ++round) {
      const int i = mine[round % mine.size()];
      std::optional<std::chrono::microseconds> k;
      if (do_kill(rng)) k = std::chrono::microseconds(delay(rng));
      if (dirty[i]) {
        {
          std::lock_guard g(mu_);
          live_.erase(i);  // no longer live from the moment its DEL may start
        }
        Outcome o = call("DEL", i, k);
        if (o.killed) {
          ++kills_;
          continue;
        }
        ++completed_;
        if (o.exit_code != 0) {
          ADD_FAILURE() << "DEL soak-" << i << " exit " << o.exit_code << ": " << o.out << o.err;
          failed_ = true;
          return;
        }
        dirty[i] = false;
        ++cycles_;
        continue;
      }
      dirty[i] = true;  // from the moment the ADD may have started
      Outcome o = call("ADD", i, k);
      if (o.killed) {
        ++kills_;
        continue;
      }
      ++completed_;
      if (o.exit_code != 0) {
        ADD_FAILURE() << "ADD soak-" << i << " exit " << o.exit_code << ": " << o.out << o.err;
        failed_ = true;
        return;
      }
      const json res = json::parse(o.out);
      const std::string ip = net::IpPrefix::parse(res["ips"][0]["address"].get<std::string>())->address().to_string();
      std::lock_guard g(mu_);
      for (const auto& [j, other] : live_)
        if (other == ip) {
          ADD_FAILURE() << "ADD soak-" << i << " got " << ip << ", already held by live soak-" << j;
          failed_ = true;
        }
      live_[i] = ip;
      check_live_invariant("after ADD soak-" + std::to_string(i));
    }
  }

  std::string data_dir_, lock_file_;
  std::vector<TestNetns*> ctrs_;
  int host_fd_ = -1;
  std::mutex mu_;
  std::map<int, std::string> live_;  // container → address, while its ADD succeeded and no DEL started
  std::atomic<long> kills_{0}, completed_{0}, cycles_{0}, checks_{0};
  std::atomic<bool> failed_{false};
};

TEST_P(CrashSoakTest, RandomKillsLeakNothingAndNeverDuplicateAnAddress) {
  const auto t0 = Clock::now();
  const unsigned seed = static_cast<unsigned>(env_long("TETHER_SOAK_SEED", static_cast<long>(::time(nullptr))));
  const long kill_target = env_long("TETHER_SOAK_KILLS", 1000);
  std::cout << "[ soak ] " << GetParam() << ": seed " << seed << " (rerun with TETHER_SOAK_SEED=" << seed
            << "), kill target " << kill_target << "\n";

  // Calibrate: one full ADD+DEL so the kill window spans a whole call, not just its exec.
  Outcome add = call("ADD", 0, std::nullopt);
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  Outcome del = call("DEL", 0, std::nullopt);
  ASSERT_EQ(del.exit_code, 0) << del.out << del.err;
  const auto window = std::max(std::chrono::microseconds(3000), std::max(add.took, del.took));
  std::cout << "[ soak ] ADD took " << add.took.count() << " us, DEL " << del.took.count()
            << " us; kill delay uniform in 0.." << window.count() << " us after spawn\n";

  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] { worker(w, seed + static_cast<unsigned>(w), kill_target, window, 0.7); });
  for (auto& t : threads) t.join();
  const auto soak_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::cout << "[ soak ] kills " << kills_ << ", completed calls " << completed_ << ", ADD/DEL cycles " << cycles_
            << ", invariant checks " << checks_ << ", " << soak_s << " s\n";
  ASSERT_FALSE(failed_);
  EXPECT_GE(kills_.load(), kill_target);

  // The runtime's cleanup: DEL every attachment with its netns, then without; GC with nothing valid.
  for (int i = 0; i < kContainers; ++i) {
    Outcome a = call("DEL", i, std::nullopt);
    EXPECT_EQ(a.exit_code, 0) << a.out << a.err;
    Outcome b = call("DEL", i, std::nullopt, /*with_netns=*/false);
    EXPECT_EQ(b.exit_code, 0) << b.out << b.err;
  }
  Outcome gc = call("GC", 0, std::nullopt, false, /*gc=*/true);
  EXPECT_EQ(gc.exit_code, 0) << gc.out << gc.err;

  // Leaks: links, leases, store files, rules.
  std::string out;
  ASSERT_EQ(host().exec("ip -j -d link show", &out), 0) << out;
  int leaked_links = 0;
  for (const auto& l : json::parse(out)) {
    const bool veth = l.contains("linkinfo") && l["linkinfo"].value("info_kind", "") == "veth";
    if (veth || l.value("master", "") == kBridge) {
      ADD_FAILURE() << "leaked host link " << l.dump();
      ++leaked_links;
    }
  }
  for (int i = 0; i < kContainers; ++i) {
    ASSERT_EQ(ctrs_[i]->exec("ip -j link show", &out), 0) << out;
    for (const auto& l : json::parse(out))
      if (l["ifname"] != "lo") {
        ADD_FAILURE() << "leaked link in container " << i << ": " << l.dump();
        ++leaked_links;
      }
  }
  int leaked_files = 0;
  for (const auto& n : dir_names(data_dir_ + "/" + kNet)) {
    const bool allowed = n == "lock" || n.starts_with("last_reserved_ip.") || n == ".tether-index";
    if (!allowed) {
      ADD_FAILURE() << "store file left: " << n << " = '" << read_text(data_dir_ + "/" + kNet + "/" + n) << "'";
      ++leaked_files;
    }
    if (n.starts_with("last_reserved_ip.")) {
      const std::string text = read_text(data_dir_ + "/" + kNet + "/" + n);
      EXPECT_TRUE(net::IpAddress::parse(text)) << n << " unparseable: '" << text << "'";
    }
  }
  // The lease index is a cache, but a killed writer must not leave files to pile up in it either.
  for (const auto& n : dir_names(data_dir_ + "/" + kNet + "/.tether-index")) {
    if (n != "snapshot" && n != "journal" && n != "stamp") {
      ADD_FAILURE() << "index file left: .tether-index/" << n;
      ++leaked_files;
    }
  }
  int leaked_rules = 0;
  for (const auto& line : tether_firewall(host())) {
    ADD_FAILURE() << "leaked firewall object: " << line;
    ++leaked_rules;
  }
  EXPECT_FALSE(has_nft_tables(host()));
  // The state directory keeps its lock files (like the store's `lock`), nothing else.
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(data_dir_ + "/.state", ec)) {
    const std::string name = e.path().filename().string();
    if (!e.is_directory() && !name.ends_with(".lock")) {
      ADD_FAILURE() << "firewall state left: " << e.path() << " = '" << read_text(e.path().string()) << "'";
      ++leaked_files;
    }
  }
  std::cout << "[ soak ] leaks: links " << leaked_links << ", store files " << leaked_files << ", rules "
            << leaked_rules << "; total " << std::chrono::duration<double>(Clock::now() - t0).count() << " s\n";
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashSoakTest, ::testing::ValuesIn(kBackends), backend_test_name);

}  // namespace
}  // namespace tether::testing
