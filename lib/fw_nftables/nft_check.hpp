#pragma once
// CHECK for the nftables backend: are the attachment's elements (and the skeleton they work
// through) in the kernel as ADD writes them? Single-element lookups and the base chains' rules:
// O(own objects), independent of the number of attachments.
#include <vector>

#include "lib/firewall/firewall.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/socket.hpp"

namespace tether::firewall::nft {

// Throws tether::Error kInternal (999) naming everything missing or different.
void check_attachment(nftables::Socket& sock, const AttachmentKey& key, const std::vector<AttachmentObjects>& objects);

}  // namespace tether::firewall::nft
