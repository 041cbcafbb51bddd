#pragma once
// `tether firewall-reload`: puts back what a firewall reload removed, from the state directory
// (firewall_state.hpp), idempotently: an attachment whose rules CHECK finds complete is left
// alone, one missing anything is re-added (its backend's ADD replaces whatever is left of it).
#include <cstddef>
#include <cstdint>
#include <string>

#include "plugin/firewall_state.hpp"
#include "plugin/plugin.hpp"

namespace tether::plugin {

struct ReloadOptions {
  std::string state_dir;
  bool watch = false;       // then stay running, reloading on each firewalld `Reloaded` signal
  unsigned interval_s = 0;  // with watch: also every this many seconds (0: only on signals)
};

struct ReloadSummary {
  std::size_t attachments = 0;
  std::size_t present = 0;   // left alone: CHECK passed
  std::size_t restored = 0;  // re-added
  std::size_t failed = 0;
};

// One pass over every attachment in `state`, under its exclusive lock (ADD/DEL/GC wait meanwhile,
// so a reload never resurrects an attachment a DEL is removing). Runs in the host netns.
ReloadSummary reload_once(const StateDir& state, const Deps& deps);

// The command: prints a summary per pass; exit code 0, or 1 when an attachment failed.
int firewall_reload(const ReloadOptions& opts, const Deps& deps);

}  // namespace tether::plugin
