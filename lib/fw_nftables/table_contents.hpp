#pragma once
// What the kernel holds in one family's tether table, read back for DEL, GC and a repeated ADD
// (dumps: O(elements)), and the removal of some attachments from it. Ownership is the element
// comment's full attachment hash (naming.hpp), never the key: DEL needs neither the netns nor
// the addresses, and never touches an element another attachment has taken over since.
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

struct TableContents {
  Family family = Family::Ip;
  std::optional<nftables::TableInfo> table;  // nullopt: no table (then nothing else)
  std::vector<nftables::Element> elements;   // of every skeleton set, with their comments
};
TableContents read_table(nftables::Socket& sock, Family family);

// The full attachment hash an element's comment names; empty for an element tether did not write.
std::string owner_hash(const std::string& comment);

using HashSet = std::set<std::string, std::less<>>;

// Appends to `batch` the deletion of every element owned by one of `hashes`; or, when
// `may_drop_table` and nothing else would be left (no other element, no object beyond the
// skeleton), of the whole table. Returns the UDP host ports it unpublishes.
std::vector<std::uint16_t> append_removal(nftables::Batch& batch, const TableContents& contents, const HashSet& hashes,
                                          bool may_drop_table);

}  // namespace tether::firewall::nft
