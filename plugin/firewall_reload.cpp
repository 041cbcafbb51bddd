#include "plugin/firewall_reload.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <thread>
#include <vector>

#include "lib/firewalld/client.hpp"
#include "lib/log/log.hpp"
#include "lib/util/error.hpp"
#include "plugin/network_forward.hpp"

namespace tether::plugin {
namespace {

std::string describe(const firewall::AttachmentKey& k) { return k.network + "/" + k.container_id + "/" + k.ifname; }

}  // namespace

ReloadSummary reload_once(const StateDir& state, const Deps& deps) {
  ReloadSummary sum;
  const auto lock = state.lock_if_exists(sys::LockMode::kExclusive);
  if (!lock) return sum;  // no state directory: nothing was ever recorded
  const std::vector<AttachmentState> states = state.load_all();
  for (const AttachmentState& s : states) {
    ++sum.attachments;
    if (s.nat.empty()) {
      ++sum.present;  // forwarding only: per network, below
      continue;
    }
    try {
      const auto fw = deps.make_firewall(s.backend);
      if (!fw) throw Error(std::string("no ") + firewall::backend_name(s.backend) + " backend in this build");
      try {
        fw->check(s.nat);
        ++sum.present;
        continue;
      } catch (const std::exception& missing) {
        log::info("firewall-reload: " + describe(s.nat.key) + ": " + missing.what());
      }
      fw->add(s.nat);
      ++sum.restored;
    } catch (const std::exception& e) {
      ++sum.failed;
      log::error("firewall-reload: " + describe(s.nat.key) + ": " + e.what());
    }
  }
  // Each network with forwarding: its accepts (idempotent) and firewalld's trust.
  struct Network {
    std::string bridge;
    std::vector<net::IpPrefix> ips;  // of all its attachments
  };
  std::map<std::string, Network> networks;
  for (const AttachmentState& s : states) {
    if (!s.forward) continue;
    Network& n = networks[s.nat.key.network];
    n.bridge = s.bridge;
    n.ips.insert(n.ips.end(), s.nat.container_ips.begin(), s.nat.container_ips.end());
  }
  for (const auto& [name, n] : networks) {
    try {
      ensure_network_forward(deps, forward_plan(name, n.bridge, n.ips), /*first=*/true);
    } catch (const std::exception& e) {
      ++sum.failed;
      log::error("firewall-reload: network " + name + " forwarding: " + e.what());
    }
  }
  return sum;
}

int firewall_reload(const ReloadOptions& opts, const Deps& deps) {
  const StateDir state(opts.state_dir);
  auto pass = [&] {
    const ReloadSummary s = reload_once(state, deps);
    std::printf("firewall-reload: %zu attachments in %s: %zu restored, %zu already present, %zu failed\n",
                s.attachments, opts.state_dir.c_str(), s.restored, s.present, s.failed);
    std::fflush(stdout);
    return s.failed == 0;
  };
  const bool ok = pass();
  if (!opts.watch) return ok ? 0 : 1;
  // --watch: a firewalld reload drops our runtime trust and whatever it flushes; put it back after
  // each one, and (--interval) after whatever else may flush rules unannounced (a restarted
  // nftables.service, an `iptables -F`): a pass where everything is present only reads.
  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::seconds(opts.interval_s);
  auto last = Clock::now();
  auto periodic = [&] {
    if (opts.interval_s != 0 && Clock::now() - last >= interval) {
      pass();
      last = Clock::now();
    }
    return false;  // never stop: the service manager ends us with a signal
  };
  for (;;) {
    if (auto client = firewalld::Client::connect_if_running()) {
      client->watch_reloads(
          [&] {
            pass();
            last = Clock::now();
          },
          periodic);
      std::fprintf(stderr, "tether: firewall-reload --watch: firewalld's bus went away\n");
    } else if (opts.interval_s == 0) {
      std::fprintf(stderr, "tether: firewall-reload --watch: firewalld is not running and no --interval given: "
                           "nothing to watch\n");
      return 1;
    }
    // No firewalld (or it left): periodic passes, looking for it again each time.
    std::this_thread::sleep_for(opts.interval_s != 0 ? interval : std::chrono::seconds(5));
    periodic();
  }
}

}  // namespace tether::plugin
