// The CNI boundary end to end (env validation + stdin + dispatch + error printing), with plugin
// verbs that only check what the boundary promised them. Input: NUL-separated fields
//   CNI_COMMAND \0 CNI_CONTAINERID \0 CNI_NETNS \0 CNI_IFNAME \0 CNI_ARGS \0 CNI_PATH \0 stdin
// A field that is exactly "\xff" is unset; missing trailing fields are unset. A one-byte command
// field picks one of the verbs (or an unknown one) so the fuzzer reaches every branch quickly.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "lib/cni/skel.hpp"
#include "lib/log/log.hpp"
#include "tests/fuzz/netconf_invariants.hpp"

using namespace tether;

namespace {

constexpr const char* kFields[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"};
constexpr const char* kCommands[] = {"ADD", "DEL", "CHECK", "VERSION", "GC", "STATUS", "BOGUS"};

void check_request(const cni::Request& req) {
  const cni::Command c = req.env.command;
  fuzz::check_netconf(req.conf);
  if (c == cni::Command::Add || c == cni::Command::Del || c == cni::Command::Check) {
    fuzz::expect(cni::valid_name(req.env.container_id), "unsafe container ID reached a verb", req.env.container_id);
    fuzz::expect(req.env.container_id.find('/') == std::string::npos && req.env.container_id != "..",
                 "path-like container ID reached a verb", req.env.container_id);
    fuzz::expect(cni::valid_ifname(req.env.ifname) && req.env.ifname.size() <= 15 &&
                     req.env.ifname.find('/') == std::string::npos,
                 "bad ifname reached a verb", req.env.ifname);
    if (c != cni::Command::Del) fuzz::expect(!req.env.netns.empty(), "empty CNI_NETNS reached ADD/CHECK");
  }
  if (c == cni::Command::Check) fuzz::expect(req.conf.version >= cni::kV040, "CHECK below 0.4.0 dispatched");
  if (c == cni::Command::Gc || c == cni::Command::Status)
    fuzz::expect(req.conf.version >= cni::kV110, "GC/STATUS below 1.1.0 dispatched");
}

cni::Result fixed_result() {
  cni::Result r;
  r.interfaces.push_back({"eth0", "0a:58:0a:00:00:05", std::nullopt, "/var/run/netns/x", "", ""});
  r.ips.push_back({*net::IpPrefix::parse("10.0.0.5/24"), net::IpAddress::parse("10.0.0.1"), 0});
  return r;
}

const cni::PluginFuncs& funcs() {
  static const cni::PluginFuncs f{[](const cni::Request& r) {
                                    check_request(r);
                                    return fixed_result();
                                  },
                                  [](const cni::Request& r) { check_request(r); },
                                  [](const cni::Request& r) { check_request(r); },
                                  [](const cni::Request& r) { check_request(r); },
                                  [](const cni::Request& r) { check_request(r); },
                                  "fuzz"};
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  log::configure(log::Level::Off);  // the boundary logs every error; keep the fuzzer's stderr readable
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  std::map<std::string, std::string> env;
  std::size_t pos = 0;
  std::string stdin_data;
  for (std::size_t field = 0; field <= 6 && pos <= text.size(); ++field) {
    std::size_t end = field == 6 ? text.size() : text.find('\0', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string value(text.substr(pos, end - pos));
    pos = end + 1;
    if (field == 6) {
      stdin_data = std::move(value);
    } else if (value != "\xff") {
      if (field == 0 && value.size() == 1) value = kCommands[static_cast<unsigned char>(value[0]) % 7];
      env[kFields[field]] = std::move(value);
    }
  }
  // logFile/logLevel would make the boundary open arbitrary paths or flood stderr: not what this
  // target is about (conf parsing of those keys is covered by fuzz_netconf).
  const cni::json peek = cni::json::parse(stdin_data, nullptr, false);
  if (peek.is_object() && (peek.contains("logFile") || peek.contains("logLevel"))) return 0;

  const cni::EnvLookup lookup = [&env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  std::istringstream in(stdin_data);
  std::ostringstream out;
  const int rc = cni::run_plugin(funcs(), lookup, in, out);
  const std::string printed = out.str();
  fuzz::expect(rc == 0 || rc == 1, "exit code not 0/1");

  auto cmd = env.find("CNI_COMMAND");
  const bool silent_verb = rc == 0 && cmd != env.end() &&
                           (cmd->second == "DEL" || cmd->second == "CHECK" || cmd->second == "GC" ||
                            cmd->second == "STATUS");
  if (silent_verb) {
    fuzz::expect(printed.empty(), "DEL/CHECK/GC/STATUS printed something", printed);
    return 0;
  }
  fuzz::expect(!printed.empty() && printed.back() == '\n' && printed.find('\n') == printed.size() - 1,
               "output is not exactly one line", printed);
  const cni::json j = cni::json::parse(printed, nullptr, false);
  fuzz::expect(j.is_object(), "output is not a JSON object", printed);
  const auto version = cni::Version::parse(j.value("cniVersion", ""));
  fuzz::expect(version && version->supported(), "output has no supported cniVersion", printed);
  if (rc == 1) {
    fuzz::expect(j.contains("code") && j["code"].is_number_integer() && j.contains("msg") && j["msg"].is_string(),
                 "error output lacks code/msg", printed);
    const int code = j["code"].get<int>();
    fuzz::expect(code == 1 || code == 3 || code == 4 || code == 6 || code == 7, "unexpected error code", printed);
    fuzz::expect(!j["msg"].get<std::string>().empty(), "empty error message");
  } else if (cmd->second == "VERSION") {
    fuzz::expect(j.contains("supportedVersions"), "VERSION without supportedVersions", printed);
  } else {
    fuzz::expect(cmd->second == "ADD", "unexpected success output", printed);
    try {
      fuzz::expect(cni::result_from_json(j, *version) == fuzz::projection(fixed_result(), *version),
                   "ADD printed a different result", printed);
    } catch (const Error& e) {
      fuzz::violated("ADD output does not parse", e.what());
    }
  }
  return 0;
}
