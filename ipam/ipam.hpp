#pragma once
// tether-ipam as a library: the same verbs the binary serves, callable in-process by `tether`
// when ipam.type is "tether-ipam" (one exec saved per call; identical behaviour).
#include "ipam/config.hpp"
#include "ipam/store.hpp"
#include "lib/cni/skel.hpp"

namespace tether::ipam {

inline constexpr const char* kTypeName = "tether-ipam";

cni::Result cmd_add(const cni::Request& req);  // = run_add(prepare_add(req))
// ADD in two halves for the in-process caller, which validates everything before its first change
// to the host: prepare_add validates the config, CNI_ARGS and names and reads resolvConf (throws
// code 7/4, touches no store); run_add takes the store lock and allocates.
struct PreparedAdd {
  Plan plan;
  Owner owner;
  cni::Result base;  // routes and DNS; run_add adds the IPs
};
PreparedAdd prepare_add(const cni::Request& req);
cni::Result run_add(const PreparedAdd& prepared);
void cmd_del(const cni::Request& req);
void cmd_check(const cni::Request& req);
void cmd_gc(const cni::Request& req);
void cmd_status(const cni::Request& req);
cni::PluginFuncs plugin_funcs();

}  // namespace tether::ipam
