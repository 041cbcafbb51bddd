#include "lib/fw_nftables/attachment_state.hpp"

#include <algorithm>

#include "lib/nftables/reader.hpp"

namespace tether::firewall::nft {

AttachmentState read_attachment(nftables::Socket& sock, Family family, const std::string& hash, bool scan_maps) {
  AttachmentState state;
  state.family = family;
  auto points_here = [&](const std::optional<nftables::Verdict>& v) {
    return v && v->kind == nftables::Verdict::Kind::Goto &&
           std::find(state.chains.begin(), state.chains.end(), v->chain) != state.chains.end();
  };
  std::vector<nftables::Element> implied;
  for (ChainKind kind : chain_kinds(family)) {
    const std::string chain = attachment_chain(hash, kind);
    const auto rules = nftables::list_rules(sock, family, kTable, chain);
    // An empty dump is "no such chain" or "chain without rules": only then ask.
    if (rules.empty() && !nftables::get_chain(sock, family, kTable, chain)) continue;
    state.chains.push_back(chain);
    for (const auto& r : rules) {
      if (!r.statements) continue;
      auto e = element_of_rule(family, chain, kind, *r.statements);
      if (!e) continue;
      implied.push_back(std::move(e->element));
      if (e->udp_port) state.udp_host_ports.push_back(*e->udp_port);
    }
  }
  if (state.chains.empty()) return state;
  // Delete an element only while it still sends traffic here: after a DEL, another attachment
  // may have taken the port (a repeated DEL must not remove its element).
  for (auto& e : implied) {
    const auto found = nftables::get_element(sock, family, kTable, e.set, e.key);
    if (found && points_here(found->verdict)) state.owned_elements.push_back(std::move(e));
  }
  if (scan_maps) {
    for (const std::string& map : map_names(family))
      for (const auto& found : nftables::list_elements(sock, family, kTable, map)) {
        if (!points_here(found.verdict)) continue;
        const bool known = std::any_of(state.owned_elements.begin(), state.owned_elements.end(),
                                       [&](const nftables::Element& e) { return e.set == map && e.key == found.key; });
        if (known) continue;
        nftables::Element e;
        e.family = family;
        e.table = kTable;
        e.set = map;
        e.key = found.key;
        e.label = "(found by scan)";
        state.owned_elements.push_back(std::move(e));
      }
  }
  std::sort(state.udp_host_ports.begin(), state.udp_host_ports.end());
  state.udp_host_ports.erase(std::unique(state.udp_host_ports.begin(), state.udp_host_ports.end()), state.udp_host_ports.end());
  return state;
}

void remove_attachment(nftables::Batch& batch, const AttachmentState& state) {
  for (const auto& e : state.owned_elements) batch.del_element(e);
  for (const auto& chain : state.chains) {
    batch.flush_chain(state.family, kTable, chain);
    batch.del_chain(state.family, kTable, chain);
  }
}

}  // namespace tether::firewall::nft
