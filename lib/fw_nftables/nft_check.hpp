#pragma once
// CHECK for the nftables backend: are the attachment's chains, rules and map elements (and the
// skeleton they hang off) in the kernel as ADD writes them?
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/socket.hpp"

namespace tether::firewall::nft {

// Throws tether::Error code 999 naming everything missing or different.
void check_attachment(nftables::Socket& sock, const AttachmentKey& key, const std::vector<AttachmentObjects>& objects);

}  // namespace tether::firewall::nft
