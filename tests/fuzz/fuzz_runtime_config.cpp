// runtimeConfig (portMappings in both key spellings, ipRanges, ips, mac) and capabilities as a
// runtime injects them: the input is the runtimeConfig value, placed into an otherwise valid config.
#include <cstddef>
#include <cstdint>

#include "lib/cni/conf.hpp"
#include "tests/fuzz/netconf_invariants.hpp"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = fuzz::as_view(data, size);
  cni::json rc = cni::json::parse(text.begin(), text.end(), nullptr, false);
  if (rc.is_discarded()) return 0;
  cni::json conf = {{"cniVersion", "1.1.0"},
                    {"name", "fuzznet"},
                    {"type", "tether"},
                    {"capabilities", {{"portMappings", true}, {"ips", true}, {"mac", true}, {"ipRanges", true}}},
                    {"ipam", {{"type", "tether-ipam"}}}};
  conf["runtimeConfig"] = std::move(rc);
  std::string stdin_text;
  try {
    stdin_text = conf.dump();
  } catch (const cni::json::exception&) {
    return 0;  // not reachable from parsed text, which is valid UTF-8
  }
  try {
    const cni::NetConf c = cni::parse_netconf(stdin_text);
    fuzz::check_netconf(c);
    const cni::json& given = conf["runtimeConfig"];
    if (auto it = given.find("portMappings"); it != given.end() && it->is_array())
      fuzz::expect(it->size() == c.runtime_config.port_mappings.size(), "port mappings lost or invented");
  } catch (const Error& e) {
    fuzz::expect_code(e, {cni::kInvalidConfig});
  }
  return 0;
}
