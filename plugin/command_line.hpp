#pragma once
// `tether` run by a person or a service rather than a runtime (no CNI_COMMAND, arguments given):
//   tether --help | --version
//   tether firewall-reload [--state-dir DIR] [--watch]
// Unknown arguments: usage on stderr, exit 2.
#include "plugin/plugin.hpp"

namespace tether::plugin {

// Returns the process exit code.
int run_command_line(int argc, const char* const* argv, const Deps& deps);

}  // namespace tether::plugin
