#include "lib/fw_nftables/table_contents.hpp"

#include <algorithm>
#include <cstdio>

#include "lib/firewall/naming.hpp"

namespace tether::firewall::nft {
namespace {

// Batch messages name what they delete; the key is all we have (hex, as nft --debug prints it).
std::string hex_label(std::span<const std::uint8_t> key) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "0x";
  for (std::uint8_t byte : key) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

nftables::Element element_of(Family family, const std::string& set, const nftables::ElementView& v) {
  nftables::Element e;
  e.family = family;
  e.table = kTable;
  e.set = set;
  e.key.assign(v.key.begin(), v.key.end());
  e.key_end.assign(v.key_end.begin(), v.key_end.end());
  e.comment = v.comment;
  e.label = hex_label(v.key);
  return e;
}

}  // namespace

TableContents read_table(nftables::Socket& sock, Family family, const HashSet& hashes) {
  TableContents out;
  out.family = family;
  out.table = nftables::get_table(sock, family, kTable);
  if (!out.table) return out;
  for (const std::string& set : set_names(family)) {
    // A dump that starts over (the ruleset changed under it) must not count anything twice.
    TableContents part;
    nftables::for_each_element(
        sock, family, kTable, set,
        [&](const nftables::ElementView& v) {
          ++part.elements;
          if (const auto tag = parse_attachment_comment(v.comment)) {
            const bool asked = hashes.count(tag->attachment_hash) != 0;
            (asked ? part.leaving : part.staying).emplace(tag->network_hash);
            if (asked) part.owned.push_back(element_of(family, set, v));
          } else if (parse_network_rule_comment(v.comment)) {
            part.network_elements.push_back(element_of(family, set, v));
          }
        },
        [&] { part = TableContents(); });
    out.elements += part.elements;
    out.leaving.merge(part.leaving);
    out.staying.merge(part.staying);
    std::move(part.owned.begin(), part.owned.end(), std::back_inserter(out.owned));
    std::move(part.network_elements.begin(), part.network_elements.end(), std::back_inserter(out.network_elements));
  }
  return out;
}

std::vector<std::uint16_t> append_removal(nftables::Batch& batch, const TableContents& contents, bool may_drop_table) {
  std::vector<std::uint16_t> udp;
  if (!contents.table || contents.owned.empty()) return udp;
  std::vector<const nftables::Element*> doomed;
  for (const auto& e : contents.owned) doomed.push_back(&e);
  // A network's elements go with its last attachment (network hashes come from all elements: an
  // index element deleted by hand must neither keep a network nor hide an attachment).
  for (const auto& e : contents.network_elements) {
    const auto net = parse_network_rule_comment(e.comment);
    if (net && contents.leaving.count(*net) && !contents.staying.count(*net)) doomed.push_back(&e);
  }
  for (const auto* e : doomed)
    if (auto port = udp_host_port(contents.family, e->set, e->key)) udp.push_back(*port);
  // The last attachment takes the skeleton with it: no tether table without a user. Anything
  // someone else put into the table (an element without our comment, a chain) keeps it.
  if (may_drop_table && doomed.size() == contents.elements && contents.table->use <= skeleton_objects(contents.family))
    batch.del_table(contents.family, kTable);
  else
    for (const auto* e : doomed) batch.del_element(*e);
  std::sort(udp.begin(), udp.end());
  udp.erase(std::unique(udp.begin(), udp.end()), udp.end());
  return udp;
}

}  // namespace tether::firewall::nft
