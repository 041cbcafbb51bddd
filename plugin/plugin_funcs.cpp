// The verbs bound to their dependencies, in the shape cni::run_plugin dispatches on.
#include "plugin/plugin.hpp"

namespace tether::plugin {

cni::PluginFuncs plugin_funcs(const Deps& deps) {
  cni::PluginFuncs f;
  f.add = [&deps](const cni::Request& r) { return cmd_add(r, deps); };
  f.del = [&deps](const cni::Request& r) { cmd_del(r, deps); };
  f.check = [&deps](const cni::Request& r) { cmd_check(r, deps); };
  f.gc = [&deps](const cni::Request& r) { cmd_gc(r, deps); };
  f.status = [&deps](const cni::Request& r) { cmd_status(r, deps); };
  f.about = "CNI tether plugin v" TETHER_VERSION;
  return f;
}

}  // namespace tether::plugin
