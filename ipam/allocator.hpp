#pragma once
// Pure allocation logic over a Store (host-local's allocator, with an idempotent repeated ADD).
// Callers hold the store lock for the whole call.
#include <cstddef>
#include <optional>
#include <set>
#include <vector>

#include "ipam/config.hpp"
#include "ipam/store.hpp"
#include "lib/cni/types.hpp"

namespace tether::ipam {

// Candidates of one range set in host-local's round-robin order: starting after `last` when it
// lies in the set (else at the first range's start), wrapping across ranges, ending when back at
// the start. Network, IPv4 broadcast and gateway addresses are never yielded.
class RangeIter {
 public:
  RangeIter(const RangeSet& set, const std::optional<net::IpAddress>& last);
  // The next candidate and its range; nullopt when every address has been offered once.
  std::optional<std::pair<net::IpAddress, const Range*>> next();

 private:
  bool advance();  // moves cur_; false when back at the start
  const RangeSet& set_;
  std::size_t idx_ = 0;
  std::optional<net::IpAddress> cur_, start_;
};

// True when the address may be handed out from range `r` (inside it, not network/broadcast/gateway).
bool allocatable(const Range& r, const net::IpAddress& a);

struct Allocation {
  cni::IpConfig ip;    // address with the range's prefix length, gateway set
  bool fresh = false;  // false: an existing lease of this owner was returned
};

// One address from range set `index` for `owner`: the owner's existing lease in the set, else the
// requested address, else the next free one round-robin. Throws tether::Error when impossible.
Allocation allocate(const RangeSet& set, std::size_t index, Store& store, const Owner& owner,
                    const std::optional<net::IpAddress>& requested);

// One address per range set, all-or-nothing: on any failure, fresh reservations are released.
std::vector<Allocation> allocate_all(const Plan& plan, Store& store, const Owner& owner);

// STATUS: could an ADD get an address from every range set, given the held addresses?
bool range_set_has_free(const RangeSet& set, const std::set<net::IpAddress>& held);

}  // namespace tether::ipam
