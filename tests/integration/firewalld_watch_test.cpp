// Client::watch_reloads against a real firewalld: one on_reload per `firewall-cmd --reload`, one
// per firewalld (re)start, none for its stop; it returns when told to or when the bus goes away.
// The watcher re-trusts its subnet in on_reload, as `tether firewall-reload --watch` will.
#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <string>
#include <thread>

#include "fixture/firewalld_fixture.hpp"
#include "lib/firewalld/client.hpp"

namespace tether::firewalld {
namespace {

using testing::firewall_cmd;
using testing::FirewalldTest;
using namespace std::chrono_literals;

// A watch_reloads running in its own thread with its own client (Client is not thread-safe).
class Watcher {
 public:
  explicit Watcher(std::string subnet) : subnet_(std::move(subnet)) {
    auto client = Client::connect_if_running();
    if (!client) throw std::runtime_error("no firewalld to watch");
    result_ = std::async(std::launch::async, [this, c = std::move(*client)]() mutable {
      return c.watch_reloads(
          [&] {
            c.trust_source(subnet_);  // what a reload or restart dropped
            ++calls_;
          },
          [&] {
            watching_ = true;  // first asked once the subscriptions are in place
            return stop_.load();
          });
    });
    // Nothing may happen before the watcher listens: it would be missed, by design.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!watching_ && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    if (!watching_) throw std::runtime_error("watch_reloads never polled stop");
  }
  ~Watcher() {
    stop_ = true;
    if (result_.valid()) result_.wait();
  }
  int calls() const { return calls_; }
  // Waits (bounded) until on_reload has run `n` times in all; false if it did not.
  bool wait_calls(int n) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (calls_ < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
    return calls_ >= n;
  }
  // Stops the watch; its result (rethrowing what on_reload threw).
  WatchEnd stop() {
    stop_ = true;
    return result_.get();
  }
  // The result if the watch ends by itself within `timeout`.
  std::optional<WatchEnd> wait_end(std::chrono::milliseconds timeout) {
    if (result_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    return result_.get();
  }

 private:
  std::string subnet_;
  std::atomic<int> calls_{0};
  std::atomic<bool> watching_{false};
  std::atomic<bool> stop_{false};
  std::future<WatchEnd> result_;
};

// How long a spurious extra on_reload would take to show up, at most: signals arrive within
// milliseconds, and on_reload's own firewalld call is well under a second.
constexpr auto kSettle = 1500ms;

class FirewalldWatchTest : public FirewalldTest {};

TEST_F(FirewalldWatchTest, OneCallPerReloadAndTheSourceIsBack) {
  auto client = Client::connect_if_running();
  ASSERT_TRUE(client.has_value());
  client->trust_source("10.88.0.0/24");
  Watcher watcher("10.88.0.0/24");

  EXPECT_EQ(firewall_cmd(sandbox(), "--reload"), "success");
  ASSERT_TRUE(watcher.wait_calls(1)) << sandbox().logs();
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 1);
  EXPECT_TRUE(client->is_trusted("10.88.0.0/24"));  // the reload dropped it, on_reload put it back

  EXPECT_EQ(firewall_cmd(sandbox(), "--reload"), "success");
  ASSERT_TRUE(watcher.wait_calls(2)) << sandbox().logs();
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 2);
  EXPECT_TRUE(client->is_trusted("10.88.0.0/24"));
  EXPECT_EQ(firewall_cmd(sandbox(), "--zone=trusted --list-sources"), "10.88.0.0/24");

  EXPECT_EQ(watcher.stop(), WatchEnd::kStopped);
}

TEST_F(FirewalldWatchTest, NoCallWithoutAReload) {
  Watcher watcher("10.88.0.0/24");
  // Calls that change the runtime configuration but do not reload emit other signals only.
  firewall_cmd(sandbox(), "--zone=public --add-source=10.77.0.0/24");
  firewall_cmd(sandbox(), "--zone=public --remove-source=10.77.0.0/24");
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 0);
  EXPECT_EQ(watcher.stop(), WatchEnd::kStopped);
}

TEST_F(FirewalldWatchTest, IgnoresReloadedSentByAnotherClient) {
  Watcher watcher("10.88.0.0/24");
  // The same signal, from dbus-send's connection instead of firewalld's.
  std::string out;
  ASSERT_EQ(sandbox().exec("dbus-send --system --type=signal /org/fedoraproject/FirewallD1 "
                           "org.fedoraproject.FirewallD1.Reloaded",
                           &out),
            0)
      << out;
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 0);
  // while firewalld's own still is.
  EXPECT_EQ(firewall_cmd(sandbox(), "--reload"), "success");
  ASSERT_TRUE(watcher.wait_calls(1)) << sandbox().logs();
  EXPECT_EQ(watcher.stop(), WatchEnd::kStopped);
}

TEST_F(FirewalldWatchTest, OneCallWhenFirewalldComesBack) {
  Watcher watcher("10.88.0.0/24");
  sandbox().stop_firewalld();
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 0);  // gone: nothing to re-apply to

  sandbox().start_firewalld();
  ASSERT_TRUE(watcher.wait_calls(1)) << sandbox().logs();
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 1);
  // The new firewalld started empty; on_reload's trust_source reached it.
  EXPECT_EQ(firewall_cmd(sandbox(), "--zone=trusted --list-sources"), "10.88.0.0/24");

  // The restarted firewalld's reloads are seen too (its new unique name is followed).
  EXPECT_EQ(firewall_cmd(sandbox(), "--reload"), "success");
  ASSERT_TRUE(watcher.wait_calls(2)) << sandbox().logs();
  std::this_thread::sleep_for(kSettle);
  EXPECT_EQ(watcher.calls(), 2);
  EXPECT_EQ(watcher.stop(), WatchEnd::kStopped);
}

TEST_F(FirewalldWatchTest, ReturnsWhenTheBusGoesAway) {
  Watcher watcher("10.88.0.0/24");
  drop_sandbox();                           // kills dbus-daemon (and firewalld) with the sandbox
  const auto end = watcher.wait_end(120s);  // a hang guard, not a latency bound
  ASSERT_TRUE(end.has_value()) << "watch_reloads still running after its bus went away";
  EXPECT_EQ(*end, WatchEnd::kBusGone);
  EXPECT_EQ(watcher.calls(), 0);
}

TEST_F(FirewalldWatchTest, StopsWhenAsked) {
  Watcher watcher("10.88.0.0/24");
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(watcher.stop(), WatchEnd::kStopped);  // a watch that ignored `stop` would hang here (ctest's timeout)
  std::cout << "[ watch ] stopped after "
            << std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() << " ms\n";
}

}  // namespace
}  // namespace tether::firewalld
