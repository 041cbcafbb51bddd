// resolv.conf → result dns, the subset host-local reads: nameserver, domain, search, options.
#include <fstream>
#include <sstream>

#include "ipam/config.hpp"
#include "lib/cni/error.hpp"

namespace tether::ipam {

cni::Dns parse_resolv_conf(const std::string& text) {
  cni::Dns dns;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (auto c = line.find_first_of("#;"); c != std::string::npos) line.resize(c);
    std::istringstream words(line);
    std::string key;
    if (!(words >> key)) continue;
    std::vector<std::string> values;
    for (std::string w; words >> w;) values.push_back(w);
    if (values.empty()) continue;
    if (key == "nameserver") {
      dns.nameservers.push_back(values.front());
    } else if (key == "domain") {
      dns.domain = values.front();
    } else if (key == "search") {
      dns.search = values;  // the last search line wins, as in the resolver
    } else if (key == "options") {
      dns.options.insert(dns.options.end(), values.begin(), values.end());
    }
  }
  return dns;
}

cni::Dns load_resolv_conf(const std::string& path) {
  std::ifstream in(path);
  if (!in) cni::invalid_config("ipam.resolvConf", "cannot read '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_resolv_conf(buf.str());
}

}  // namespace tether::ipam
