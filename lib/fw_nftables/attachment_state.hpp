#pragma once
// What the kernel holds for one attachment in one family, read back for DEL, GC and replace:
// its chains, and the map elements that still send traffic to them. Needs neither the netns nor
// the addresses: the keys are decoded from the attachment's own rules (O(own objects)).
#include <cstdint>
#include <string>
#include <vector>

#include "lib/fw_nftables/ruleset.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/socket.hpp"

namespace tether::firewall::nft {

struct AttachmentState {
  Family family = Family::Ip;
  std::vector<std::string> chains;                 // existing att-<hash>-* chains
  std::vector<nftables::Element> owned_elements;   // elements whose verdict is goto one of them
  std::vector<std::uint16_t> udp_host_ports;
  bool empty() const noexcept { return chains.empty(); }
};

// `scan_maps`: also walk the family's maps for elements pointing at the chains (O(all elements));
// for when the rules no longer tell (someone deleted one), and DELCHAIN failed with EBUSY.
AttachmentState read_attachment(nftables::Socket& sock, Family family, const std::string& attachment_hash,
                                bool scan_maps = false);

// Appends the removal: owned elements first (they hold references to the chains), then the chains.
void remove_attachment(nftables::Batch& batch, const AttachmentState& state);

}  // namespace tether::firewall::nft
