#pragma once
// The CNI boundary: reads env + stdin, validates per verb, dispatches, prints the result, and is
// the program's only catch site: every failure becomes {cniVersion, code, msg, details} on stdout
// and a non-zero exit. Streams and env are injectable for tests.
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

#include "lib/cni/env.hpp"
#include "lib/cni/types.hpp"

namespace tether::cni {

struct Request {
  Env env;
  std::string stdin_data;  // exactly as received (passed unchanged to delegated IPAM)
  NetConf conf;
};

struct PluginFuncs {
  std::function<Result(const Request&)> add;  // result printed in conf.version
  std::function<void(const Request&)> del;
  std::function<void(const Request&)> check;
  std::function<void(const Request&)> gc;
  std::function<void(const Request&)> status;
  std::string about;  // e.g. "CNI tether plugin v0.1.0": printed when run without CNI_COMMAND
};

// Returns the process exit code (0 ok, 1 error).
int run_plugin(const PluginFuncs& funcs, const EnvLookup& env, std::istream& in, std::ostream& out);
// Convenience for main(): process env, std::cin, std::cout. Without CNI_COMMAND (run by hand),
// prints `about` and the supported CNI versions on stderr and returns 0, as the reference plugins do.
int run_plugin_main(const PluginFuncs& funcs);

// VERSION's answer for a requested version string.
json version_info(const std::string& requested_version);

}  // namespace tether::cni
