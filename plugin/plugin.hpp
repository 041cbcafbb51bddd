#pragma once
// The bridge plugin's verbs. Each expects to run in the host netns (the one holding the bridge).
#include <functional>
#include <string_view>

#include "lib/cni/skel.hpp"
#include "lib/firewall/firewall.hpp"

namespace tether::plugin {

// What the verbs need from outside, injectable for tests.
struct Deps {
  firewall::Firewall* firewall = nullptr;  // required
  // Fault-injection seam: called after each completed ADD step with its name ("bridge", "veth",
  // "ipam", "container", "gateway", "firewall"). A throw here fails the ADD at that point, so tests
  // can assert that the rollback leaves nothing behind. Unset in production.
  std::function<void(std::string_view step)> after_add_step;
};

// Steps in order, for tests that iterate over them.
inline constexpr std::string_view kAddSteps[] = {"bridge", "veth", "ipam", "container", "gateway", "firewall"};

cni::Result cmd_add(const cni::Request& req, const Deps& deps);
void cmd_del(const cni::Request& req, const Deps& deps);
void cmd_check(const cni::Request& req, const Deps& deps);
void cmd_gc(const cni::Request& req, const Deps& deps);
void cmd_status(const cni::Request& req, const Deps& deps);

cni::PluginFuncs plugin_funcs(const Deps& deps);  // deps must outlive the returned funcs

}  // namespace tether::plugin
