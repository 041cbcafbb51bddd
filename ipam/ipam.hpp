#pragma once
// tether-ipam as a library: the same verbs the binary serves, callable in-process by `tether`
// when ipam.type is "tether-ipam" (one exec saved per call; identical behaviour).
#include "lib/cni/skel.hpp"

namespace tether::ipam {

inline constexpr const char* kTypeName = "tether-ipam";

cni::Result cmd_add(const cni::Request& req);
void cmd_del(const cni::Request& req);
void cmd_check(const cni::Request& req);
void cmd_gc(const cni::Request& req);
void cmd_status(const cni::Request& req);
cni::PluginFuncs plugin_funcs();

}  // namespace tether::ipam
