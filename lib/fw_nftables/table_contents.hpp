#pragma once
// What the kernel holds in one family's tether table for some attachments, read back for DEL, GC
// and a repeated ADD (dumps of every set: O(elements), filtered while they stream in), and the
// removal of those attachments. Ownership is the element comment's full attachment hash
// (naming.hpp), never the key: DEL needs neither the netns nor the addresses, and never touches
// an element another attachment has taken over since.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/socket.hpp"

namespace tether::firewall::nft {

using HashSet = std::set<std::string, std::less<>>;

struct TableContents {
  Family family = Family::Ip;
  std::optional<nftables::TableInfo> table;         // nullopt: no table (then nothing else)
  std::vector<nftables::Element> owned;             // elements of the attachments asked for
  std::vector<nftables::Element> network_elements;  // every element with a network comment (few)
  HashSet leaving;                                  // networks of the attachments asked for
  HashSet staying;                                  // networks of every other attachment
  std::size_t elements = 0;                         // all elements of the table's sets
};
TableContents read_table(nftables::Socket& sock, Family family, const HashSet& attachment_hashes);

// Appends to `batch` the deletion of contents.owned, and of the network elements of networks no
// remaining attachment uses; or, when `may_drop_table` and nothing else would be left (no other
// element, no object beyond the skeleton), of the whole table. Returns the UDP host ports it
// unpublishes.
std::vector<std::uint16_t> append_removal(nftables::Batch& batch, const TableContents& contents, bool may_drop_table);

}  // namespace tether::firewall::nft
