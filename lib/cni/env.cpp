#include "lib/cni/env.hpp"

#include <cstdlib>
#include <vector>

#include "lib/cni/error.hpp"

namespace tether::cni {
namespace {

struct CommandName {
  Command command;
  const char* name;
};
constexpr CommandName kCommands[] = {{Command::Add, "ADD"},         {Command::Del, "DEL"}, {Command::Check, "CHECK"},
                                     {Command::Version, "VERSION"}, {Command::Gc, "GC"},   {Command::Status, "STATUS"}};

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

std::optional<Command> parse_command(std::string_view text) {
  for (const auto& c : kCommands) {
    if (text == c.name) return c.command;
  }
  return std::nullopt;
}

const char* command_name(Command c) {
  for (const auto& k : kCommands) {
    if (k.command == c) return k.name;
  }
  return "UNKNOWN";
}

EnvLookup process_env() {
  return [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength || !is_alnum(s[0])) return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

std::string abbreviate(std::string_view s) {
  constexpr std::size_t kShown = 40;
  if (s.size() <= kShown) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, kShown)) + "...' (" + std::to_string(s.size()) + " characters)";
}

bool valid_ifname(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') return false;
  }
  return true;
}

Env parse_env(const EnvLookup& lookup) {
  Env env;
  auto command_text = lookup("CNI_COMMAND");
  if (!command_text || command_text->empty()) fail(kInvalidEnv, "required env variables [CNI_COMMAND] missing");
  auto command = parse_command(*command_text);
  if (!command) fail(kInvalidEnv, "unknown CNI_COMMAND '" + *command_text + "'");
  env.command = *command;
  env.delegated = lookup(kDelegatedMarker).has_value();
  if (env.command == Command::Version) return env;

  const bool attach = env.command == Command::Add || env.command == Command::Del || env.command == Command::Check;
  auto container_id = lookup("CNI_CONTAINERID");
  auto netns = lookup("CNI_NETNS");
  auto ifname = lookup("CNI_IFNAME");
  env.container_id = container_id.value_or("");
  env.netns = netns.value_or("");
  env.ifname = ifname.value_or("");
  env.args = lookup("CNI_ARGS").value_or("");
  env.path = lookup("CNI_PATH").value_or("");
  if (!attach) return env;  // GC and STATUS need only CNI_COMMAND (CNI_PATH only when delegating)

  // An unset container ID is "missing" (4); a set-but-empty one is the spec's "unknown container" (3).
  std::vector<std::string> missing;
  if (!container_id) missing.emplace_back("CNI_CONTAINERID");
  if (env.netns.empty() && env.command != Command::Del) missing.emplace_back("CNI_NETNS");
  if (env.ifname.empty()) missing.emplace_back("CNI_IFNAME");
  if (!missing.empty()) {
    std::string joined;
    for (const auto& m : missing) joined += (joined.empty() ? "" : ",") + m;
    fail(kInvalidEnv, "required env variables [" + joined + "] missing");
  }
  if (env.container_id.empty()) fail(kUnknownContainer, "CNI_CONTAINERID is empty");
  if (env.container_id.size() > kMaxNameLength)
    fail(kInvalidEnv, "CNI_CONTAINERID " + abbreviate(env.container_id) + " is too long: at most " +
                          std::to_string(kMaxNameLength) + " characters");
  if (!valid_name(env.container_id))
    fail(kInvalidEnv, "CNI_CONTAINERID '" + env.container_id +
                          "' is invalid: must start with a letter or digit and contain only letters, digits, "
                          "'_', '.' and '-'");
  if (!valid_ifname(env.ifname))
    fail(kInvalidEnv, "CNI_IFNAME " + abbreviate(env.ifname) +
                          " is invalid: must be 1-15 characters, not '.' or '..', without '/', ':' or whitespace");
  return env;
}

}  // namespace tether::cni
