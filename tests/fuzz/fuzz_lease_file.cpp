// The IPAM store's file reader (ipam/lease_file.hpp): lease file contents written by us, by
// host-local, or torn by a crash, and directory entry names. Input: byte 0 selects what is fuzzed.
//   content: accepted owners are safe names and print back to the same owner;
//   name: only a canonical address spelling is a lease (so no two files claim one address);
//   prefix/address text (lib/net, which both read): parse → print → parse is the identity.
#include <cstddef>
#include <cstdint>

#include "ipam/lease_file.hpp"
#include "lib/cni/env.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tether;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto text = fuzz::as_view(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      const auto owner = ipam::parse_lease_content(text);
      if (!owner) return 0;
      fuzz::expect(cni::valid_name(owner->container_id), "lease owner with an unsafe container ID",
                   owner->container_id);
      fuzz::expect(owner->ifname.empty() || cni::valid_ifname(owner->ifname), "lease owner with a bad ifname",
                   owner->ifname);
      fuzz::expect(ipam::parse_lease_content(ipam::lease_content(*owner)) == owner, "lease content round trip");
      return 0;
    }
    case 1: {
      const auto ip = ipam::parse_lease_name(text);
      if (!ip) return 0;
      fuzz::expect(ip->to_string() == text, "non-canonical lease name accepted", std::string(text));
      fuzz::expect(text != "." && text != ".." && text.find('/') == std::string_view::npos &&
                       !text.starts_with(ipam::kLastReservedPrefix) && text != ipam::kLockName,
                   "lease name collides with a special entry", std::string(text));
      return 0;
    }
    default: {
      if (const auto p = net::IpPrefix::parse_address_or_prefix(text)) {
        const auto again = net::IpPrefix::parse(p->to_string());
        fuzz::expect(again && *again == *p, "prefix print/parse round trip", p->to_string());
        fuzz::expect(p->network().contains(p->address()) && p->contains(p->first()) && p->contains(p->last()),
                     "prefix arithmetic", p->to_string());
        fuzz::expect(p->length() >= 0 && p->length() <= p->max_length(), "prefix length out of range");
      }
      if (const auto a = net::IpAddress::parse(text)) {
        const auto again = net::IpAddress::parse(a->to_string());
        fuzz::expect(again && *again == *a, "address print/parse round trip", a->to_string());
        fuzz::expect(a->next().prev() == *a, "next/prev not inverse", a->to_string());
      }
      return 0;
    }
  }
}
