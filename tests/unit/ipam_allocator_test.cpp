// Allocator over a FakeStore: host-local's round-robin semantics plus idempotent repeated ADD.
#include <gtest/gtest.h>

#include "ipam/allocator.hpp"
#include "ipam/range_parse.hpp"
#include "ipam_fake_store.hpp"
#include "lib/util/error.hpp"

namespace tether::ipam {
namespace {

using testing::FakeStore;
using testing::ip;

RangeSet set_of(const char* json_text) { return parse_range_set(cni::json::parse(json_text), "ipam.ranges[0]"); }

const Owner kA{"ctrA", "eth0"};
const Owner kB{"ctrB", "eth0"};

std::string alloc(const RangeSet& s, FakeStore& st, const Owner& o, std::optional<net::IpAddress> req = {}) {
  return allocate(s, 0, st, o, req).ip.address.to_string();
}

TEST(IpamAllocator, FirstAllocationSkipsGatewayAndRecordsCursor) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  const Allocation a = allocate(s, 0, st, kA, std::nullopt);
  EXPECT_EQ(a.ip.address.to_string(), "10.1.0.2/24");
  EXPECT_EQ(a.ip.gateway->to_string(), "10.1.0.1");
  EXPECT_TRUE(a.fresh);
  EXPECT_EQ(st.last.at(0).to_string(), "10.1.0.2");
  EXPECT_EQ(st.leases.at(ip("10.1.0.2")), kA);
}

TEST(IpamAllocator, RoundRobinContinuesAfterLastReservedEvenWhenLowerIsFree) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/24");
  st.release(ip("10.1.0.2"));
  // .2 is free again, but round-robin moves on so a restarting container gets a fresh address.
  EXPECT_EQ(alloc(s, st, kB), "10.1.0.3/24");
}

TEST(IpamAllocator, WrapsAroundToRangeStartAndSkipsBroadcast) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/29"}])");  // hosts .1-.6, gw .1, broadcast .7
  FakeStore st;
  st.last[0] = ip("10.1.0.6");
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/29");
  for (const auto& a : st.attempts) EXPECT_NE(a.to_string(), "10.1.0.7");
}

TEST(IpamAllocator, ExplicitRangeEndAtBroadcastStillSkipsIt) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/30","rangeStart":"10.1.0.0","rangeEnd":"10.1.0.3"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/30");
  // Only .2 is usable: network .0, gateway .1 and broadcast .3 never are.
  EXPECT_THROW(alloc(s, st, kB), Error);
  for (const auto& a : st.attempts) EXPECT_EQ(a.to_string(), "10.1.0.2");
}

TEST(IpamAllocator, HonoursRangeStartEndAndCustomGateway) {
  const RangeSet s = set_of(
      R"([{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.10","rangeEnd":"10.1.0.11","gateway":"10.1.0.10"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.11/24");
  try {
    alloc(s, st, kB);
    FAIL() << "expected exhaustion";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no IP addresses available in range set 0"), std::string::npos) << e.what();
  }
}

TEST(IpamAllocator, SkipsTakenAddresses) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  st.leases[ip("10.1.0.2")] = {"other", "eth0"};
  st.leases[ip("10.1.0.3")] = {"other", "eth1"};
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.4/24");
}

TEST(IpamAllocator, DensePoolSwitchesFromProbingToOneListing) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/22"}])");
  for (bool supported : {true, false}) {
    FakeStore st;
    st.supports_held = supported;
    net::IpAddress a = ip("10.1.0.2");
    for (int i = 0; i < 500; ++i, a = a.next()) {
      std::string id = "x";
      id += std::to_string(i);
      st.leases[a] = {id, "eth0"};
    }
    EXPECT_EQ(alloc(s, st, kA), a.to_string() + "/22");
    EXPECT_EQ(st.held_calls, 1);
    if (supported) {
      EXPECT_EQ(st.attempts.size(), 17u) << "16 failed probes, then straight to the free address";
    } else {
      EXPECT_EQ(st.attempts.size(), 501u) << "without a listing every taken address is probed";
    }
  }
}

TEST(IpamAllocator, ExhaustionReportsAndReservesNothing) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/30"}])");  // only .2
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/30");
  EXPECT_THROW(alloc(s, st, kB), Error);
  EXPECT_EQ(st.leases.size(), 1u);
}

TEST(IpamAllocator, RepeatedAddReturnsExistingLease) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/24");
  const Allocation again = allocate(s, 0, st, kA, std::nullopt);
  EXPECT_FALSE(again.fresh);
  EXPECT_EQ(again.ip.address.to_string(), "10.1.0.2/24");
  EXPECT_EQ(st.leases.size(), 1u);
  // Same container, other interface: a second address.
  EXPECT_EQ(alloc(s, st, {"ctrA", "eth1"}), "10.1.0.3/24");
}

TEST(IpamAllocator, RequestedIpIsReservedOrRefused) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA, ip("10.1.0.77")), "10.1.0.77/24");
  EXPECT_EQ(st.last.at(0).to_string(), "10.1.0.77");
  EXPECT_THROW(alloc(s, st, kB, ip("10.1.0.77")), Error);  // taken
  EXPECT_THROW(alloc(s, st, kB, ip("10.1.0.1")), Error);   // gateway
  EXPECT_THROW(alloc(s, st, kB, ip("10.1.1.5")), Error);   // outside
  EXPECT_THROW(alloc(s, st, kA, ip("10.1.0.78")), Error);  // kA holds .77 already
  EXPECT_EQ(st.leases.size(), 1u);
}

TEST(IpamAllocator, MultiRangeSetMovesToNextRange) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/30"},{"subnet":"10.2.0.0/30"}])");
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/30");
  const Allocation b = allocate(s, 0, st, kB, std::nullopt);
  EXPECT_EQ(b.ip.address.to_string(), "10.2.0.2/30");
  EXPECT_EQ(b.ip.gateway->to_string(), "10.2.0.1");
  // Wraps from the last range back to the first.
  st.release(ip("10.1.0.2"));
  EXPECT_EQ(alloc(s, st, {"ctrC", "eth0"}), "10.1.0.2/30");
}

TEST(IpamAllocator, Ipv6UsesLastAddressAndLeavesNetworkAlone) {
  const RangeSet s = set_of(R"([{"subnet":"fd00:1::/126"}])");  // ::0 net, ::1 gw, ::2, ::3 usable
  FakeStore st;
  EXPECT_EQ(alloc(s, st, kA), "fd00:1::2/126");
  EXPECT_EQ(alloc(s, st, kB), "fd00:1::3/126");
  EXPECT_THROW(alloc(s, st, {"c", "eth0"}), Error);
}

TEST(IpamAllocator, CursorOutsideSetRestartsAtRangeStart) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/24"}])");
  FakeStore st;
  st.last[0] = ip("192.168.0.9");  // range indexes changed since: lose round-robin once
  EXPECT_EQ(alloc(s, st, kA), "10.1.0.2/24");
}

Plan dual_plan() {
  Plan p;
  p.range_sets = {set_of(R"([{"subnet":"10.1.0.0/30"}])"), set_of(R"([{"subnet":"fd00:1::/120"}])")};
  p.requested.resize(2);
  return p;
}

TEST(IpamAllocator, DualStackGivesOneAddressPerSet) {
  FakeStore st;
  const auto out = allocate_all(dual_plan(), st, kA);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].ip.address.to_string(), "10.1.0.2/30");
  EXPECT_EQ(out[1].ip.address.to_string(), "fd00:1::2/120");
  EXPECT_EQ(st.last.at(1).to_string(), "fd00:1::2");
}

TEST(IpamAllocator, AllOrNothingReleasesEarlierSetsOnFailure) {
  FakeStore st;
  Plan p = dual_plan();
  p.requested[1] = ip("fd00:1::9");
  st.leases[ip("fd00:1::9")] = {"someone", "eth0"};
  EXPECT_THROW(allocate_all(p, st, kA), Error);
  EXPECT_TRUE(st.find_by_owner(kA).empty()) << "v4 lease must be rolled back";
  EXPECT_EQ(st.leases.size(), 1u);
}

TEST(IpamAllocator, AllOrNothingKeepsPreexistingLeaseOfTheOwner) {
  FakeStore st;
  st.leases[ip("10.1.0.2")] = kA;  // from an earlier ADD
  st.leases[ip("fd00:1::2")] = {"x", "eth0"};
  Plan p = dual_plan();
  p.requested[1] = ip("fd00:1::2");
  EXPECT_THROW(allocate_all(p, st, kA), Error);
  EXPECT_EQ(st.leases.at(ip("10.1.0.2")), kA) << "rollback must only drop what this call reserved";
}

TEST(IpamAllocator, RangeSetHasFreeCountsSpecialsAndHeld) {
  const RangeSet s = set_of(R"([{"subnet":"10.1.0.0/29"}])");  // usable .2-.6
  std::set<net::IpAddress> held;
  for (const char* a : {"10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"}) held.insert(ip(a));
  EXPECT_TRUE(range_set_has_free(s, held));
  held.insert(ip("10.1.0.6"));
  held.insert(ip("10.9.9.9"));  // elsewhere: irrelevant
  EXPECT_FALSE(range_set_has_free(s, held));
  const RangeSet v6 = set_of(R"([{"subnet":"fd00::/64"}])");
  EXPECT_TRUE(range_set_has_free(v6, held));
}

}  // namespace
}  // namespace tether::ipam
