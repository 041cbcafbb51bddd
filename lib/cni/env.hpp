#pragma once
// CNI_* environment: per-verb required variables and value rules (spec §Parameters, Go skel).
//   code 4 names every missing/invalid variable; code 3 for an empty CNI_CONTAINERID.
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace tether::cni {

enum class Command { Add, Del, Check, Version, Gc, Status };
std::optional<Command> parse_command(std::string_view text);  // "ADD", ...
const char* command_name(Command c);                          // "ADD", ...

struct Env {
  Command command = Command::Version;
  std::string container_id;  // ADD/DEL/CHECK
  std::string netns;         // ADD/CHECK required; DEL optional (may be empty)
  std::string ifname;        // ADD/DEL/CHECK
  std::string args;          // CNI_ARGS raw
  std::string path;          // CNI_PATH (':'-separated)
  // kDelegatedMarker was set: this process was run as a delegated plugin by tether, so it must not
  // delegate again (a config whose IPAM leads back to tether would otherwise recurse for ever).
  bool delegated = false;
};

// Set (to "1") in the environment of every plugin tether delegates to. It passes through other
// plugins, which hand their environment on, so any cycle back to tether is cut after one level.
inline constexpr const char* kDelegatedMarker = "TETHER_DELEGATED";

// Reads variables through `getenv_fn` (returns nullopt when unset) so tests can inject them.
using EnvLookup = std::function<std::optional<std::string>(const char*)>;
EnvLookup process_env();
Env parse_env(const EnvLookup& lookup);  // throws tether::Error with code 3/4

// Name rules shared with the store (path safety): ^[A-Za-z0-9][A-Za-z0-9_.\-]*$, at most
// kMaxNameLength bytes: a network name is a directory name under dataDir (NAME_MAX), and a
// container ID must fit the store's lease file, which is read back with a 1 KiB cap.
inline constexpr std::size_t kMaxNameLength = 255;
bool valid_name(std::string_view s);
// For messages about an over-long value: its first characters and its length, not all of it.
std::string abbreviate(std::string_view s);
// Linux ifname rules: 1..15 chars, not "." or "..", no '/', ':' or whitespace.
bool valid_ifname(std::string_view s);

}  // namespace tether::cni
