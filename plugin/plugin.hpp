#pragma once
// The bridge plugin's verbs. Each expects to run in the host netns (the one holding the bridge).
#include <functional>
#include <memory>
#include <string>

#include "lib/cni/skel.hpp"
#include "lib/firewall/firewall.hpp"

namespace tether::plugin {

// firewalld's trusted zone (runtime configuration), as the verbs use it.
class TrustedZone {
 public:
  virtual ~TrustedZone() = default;
  virtual void trust(const std::string& cidr) = 0;    // already trusted: no-op
  virtual void untrust(const std::string& cidr) = 0;  // not there: no-op
  virtual bool trusted(const std::string& cidr) = 0;
};

// What the verbs need from outside, injectable for tests.
struct Deps {
  // Makes firewall backend `b`; nullptr when this build has none. Called only by verbs that need
  // one, after the config is read (production: plugin/firewall_select.hpp make_firewall).
  std::function<std::unique_ptr<firewall::Firewall>(firewall::Backend b)> make_firewall;
  // firewalld when it runs; nullptr when it does not (no bus, no firewalld: decided without
  // waiting). Unset: never asked.
  std::function<std::unique_ptr<TrustedZone>()> trusted_zone;
};

cni::Result cmd_add(const cni::Request& req, const Deps& deps);
void cmd_del(const cni::Request& req, const Deps& deps);
void cmd_check(const cni::Request& req, const Deps& deps);
void cmd_gc(const cni::Request& req, const Deps& deps);
void cmd_status(const cni::Request& req, const Deps& deps);

cni::PluginFuncs plugin_funcs(const Deps& deps);  // deps must outlive the returned funcs

}  // namespace tether::plugin
