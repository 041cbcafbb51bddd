#include "lib/fw_nftables/table_contents.hpp"

#include <algorithm>
#include <cstdio>

#include "lib/firewall/naming.hpp"

namespace tether::firewall::nft {
namespace {

// Batch messages name what they delete; the key is all we have (hex, as nft --debug prints it).
std::string hex_label(const nftables::Bytes& key) {
  std::string out;
  char b[3];
  for (std::uint8_t byte : key) {
    std::snprintf(b, sizeof b, "%02x", byte);
    out += b;
  }
  return "0x" + out;
}

}  // namespace

TableContents read_table(nftables::Socket& sock, Family family) {
  TableContents out;
  out.family = family;
  out.table = nftables::get_table(sock, family, kTable);
  if (!out.table) return out;
  for (const std::string& set : set_names(family))
    for (auto& found : nftables::list_elements(sock, family, kTable, set)) {
      nftables::Element e;
      e.family = family;
      e.table = kTable;
      e.set = set;
      e.key = std::move(found.key);
      e.key_end = std::move(found.key_end);
      e.comment = std::move(found.comment);
      e.label = hex_label(e.key);
      out.elements.push_back(std::move(e));
    }
  return out;
}

std::string owner_hash(const std::string& comment) {
  const auto tag = parse_attachment_comment(comment);
  return tag ? std::string(tag->attachment_hash) : std::string();
}

std::vector<std::uint16_t> append_removal(nftables::Batch& batch, const TableContents& contents, const HashSet& hashes,
                                          bool may_drop_table) {
  std::vector<std::uint16_t> udp;
  if (!contents.table) return udp;
  std::vector<const nftables::Element*> owned;
  for (const auto& e : contents.elements)
    if (hashes.count(owner_hash(e.comment))) owned.push_back(&e);
  if (owned.empty()) return udp;
  for (const auto* e : owned)
    if (auto port = udp_host_port(contents.family, e->set, e->key)) udp.push_back(*port);
  // The last attachment takes the skeleton with it: no tether table without a user. Anything
  // someone else put into the table (an element without our comment, a chain) keeps it.
  if (may_drop_table && owned.size() == contents.elements.size() && contents.table->use <= skeleton_objects(contents.family))
    batch.del_table(contents.family, kTable);
  else
    for (const auto* e : owned) batch.del_element(*e);
  std::sort(udp.begin(), udp.end());
  udp.erase(std::unique(udp.begin(), udp.end()), udp.end());
  return udp;
}

}  // namespace tether::firewall::nft
