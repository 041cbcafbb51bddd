#pragma once
// In-memory Store for allocator tests; counts reserve attempts so tests can see the probe order.
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "ipam/store.hpp"

namespace tether::ipam::testing {

class FakeStore : public Store {
 public:
  bool reserve(const net::IpAddress& ip, const Owner& owner) override {
    attempts.push_back(ip);
    if (leases.count(ip)) return false;
    leases[ip] = owner;
    return true;
  }
  void release(const net::IpAddress& ip) override { leases.erase(ip); }
  std::optional<net::IpAddress> last_reserved(std::size_t i) override {
    auto it = last.find(i);
    return it == last.end() ? std::nullopt : std::optional(it->second);
  }
  void set_last_reserved(std::size_t i, const net::IpAddress& ip) override { last[i] = ip; }
  std::vector<net::IpAddress> find_by_owner(const Owner& o) override {
    std::vector<net::IpAddress> out;
    for (const auto& [ip, owner] : leases) {
      if (owner == o) out.push_back(ip);
    }
    return out;
  }
  std::vector<Lease> list() override {
    std::vector<Lease> out;
    for (const auto& [ip, owner] : leases) out.push_back({ip, owner});
    return out;
  }

  std::optional<std::set<net::IpAddress>> held_addresses() override {
    ++held_calls;
    if (!supports_held) return std::nullopt;
    std::set<net::IpAddress> out;
    for (const auto& [ip, owner] : leases) out.insert(ip);
    return out;
  }

  bool supports_held = true;
  int held_calls = 0;
  std::map<net::IpAddress, Owner> leases;
  std::map<std::size_t, net::IpAddress> last;
  std::vector<net::IpAddress> attempts;
};

inline net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }

}  // namespace tether::ipam::testing
