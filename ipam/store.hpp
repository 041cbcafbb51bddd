#pragma once
// The lease store the allocator works against. FileStore is host-local's on-disk layout; tests use
// a FakeStore. Every call except the read-only status scan runs with the store's lock held (a
// FileStore object is the locked session: file_store.hpp), so implementations need no locking of
// their own.
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lib/net/ip.hpp"

namespace tether::ipam {

// Who holds a lease. ifname "" = a legacy host-local file holding only the container ID.
struct Owner {
  std::string container_id;
  std::string ifname;
  bool operator==(const Owner&) const = default;
};

struct Lease {
  net::IpAddress ip;
  std::optional<Owner> owner;  // nullopt: unreadable/garbage content (crash leftover); held by nobody
};

class Store {
 public:
  virtual ~Store() = default;
  // Claims `ip` for `owner` atomically. false when the address is already held.
  virtual bool reserve(const net::IpAddress& ip, const Owner& owner) = 0;
  // Drops the lease on `ip` (whoever holds it); absent is fine.
  virtual void release(const net::IpAddress& ip) = 0;
  // Round-robin cursor per range set index; nullopt when absent or unreadable.
  virtual std::optional<net::IpAddress> last_reserved(std::size_t range_set) = 0;
  virtual void set_last_reserved(std::size_t range_set, const net::IpAddress& ip) = 0;
  // Leases held by exactly (container_id, ifname); with ifname "" the legacy ID-only leases.
  virtual std::vector<net::IpAddress> find_by_owner(const Owner& owner) = 0;
  // Every lease, garbage included (GC).
  virtual std::vector<Lease> list() = 0;
  // Addresses that have a lease file, from names only (cheap). The allocator switches to it after
  // a run of taken candidates, so a dense pool costs one directory read instead of one failed
  // create per taken address. nullopt: not supported, keep probing.
  virtual std::optional<std::set<net::IpAddress>> held_addresses() { return std::nullopt; }
};

}  // namespace tether::ipam
