// Which deletions DEL/GC/replace append for what a table holds (table_contents.hpp), without a
// kernel: the batch's message descriptions are the evidence.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/fw_nftables/table_contents.hpp"

namespace tether::firewall::nft {
namespace {

NatPlan plan(const std::string& network, const std::string& cid, const char* ip, std::uint16_t udp_port) {
  NatPlan p;
  p.key = {network, cid, "eth0"};
  p.ip_masq = true;
  p.container_ips = {*net::IpPrefix::parse(ip)};
  p.port_mappings = {{udp_port, 53, net::L4Proto::Udp, {}}};
  return p;
}

// The table as read back with `removed` asked for, holding the objects of `plans` (network
// elements once per subnet, as the kernel keeps them).
TableContents contents(const std::vector<NatPlan>& plans, const std::vector<const NatPlan*>& removed) {
  TableContents c;
  c.family = Family::Ip;
  c.table = nftables::TableInfo{static_cast<std::uint32_t>(skeleton_objects(Family::Ip)), kTableComment};
  std::set<std::string> subnets;
  for (const auto& p : plans) {
    const auto o = attachment_objects(p).at(0);
    const bool asked = std::any_of(removed.begin(), removed.end(), [&](const NatPlan* r) {
      return r->key.container_id == p.key.container_id && r->key.network == p.key.network;
    });
    (asked ? c.leaving : c.staying).insert(network_hash(p.key.network));
    for (const auto& e : o.elements) {
      ++c.elements;
      if (asked) c.owned.push_back(e);
    }
    for (const auto& e : o.network_elements)
      if (subnets.insert(e.label).second) {
        ++c.elements;
        c.network_elements.push_back(e);
      }
  }
  return c;
}

std::vector<std::string> messages(const nftables::Batch& b) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < b.size(); ++i) out.push_back(b.what(i));
  return out;
}

bool mentions(const std::vector<std::string>& msgs, const std::string& what) {
  return std::any_of(msgs.begin(), msgs.end(), [&](const std::string& m) { return m.find(what) != std::string::npos; });
}

TEST(NftRemoval, TheNetworksSubnetGoesWithItsLastAttachment) {
  const NatPlan a = plan("net1", "a", "10.77.0.2/24", 5353), b = plan("net1", "b", "10.77.0.3/24", 5354);
  const NatPlan c = plan("net2", "c", "10.78.0.2/24", 5355);
  nftables::Batch batch;
  auto udp = append_removal(batch, contents({a, b, c}, {&a}), true);
  auto msgs = messages(batch);
  EXPECT_EQ(udp, std::vector<std::uint16_t>{5353});
  EXPECT_EQ(msgs.size(), 3u);  // a's index, udp port, masq; net1 keeps its subnet (b is there)
  EXPECT_FALSE(mentions(msgs, "@subnets"));
  EXPECT_FALSE(mentions(msgs, "delete table"));

  nftables::Batch batch2;
  append_removal(batch2, contents({a, b, c}, {&a, &b}), true);
  msgs = messages(batch2);
  EXPECT_EQ(msgs.size(), 7u);  // both attachments and net1's subnet, not net2's
  EXPECT_TRUE(mentions(msgs, "delete element { 10.77.0.0/24 . 10.77.0.0/24 } from ip tether @subnets"));
  EXPECT_FALSE(mentions(msgs, "10.78.0.0"));
}

TEST(NftRemoval, TheLastAttachmentTakesTheTableUnlessSomethingForeignIsThere) {
  const NatPlan a = plan("net1", "a", "10.77.0.2/24", 5353);
  nftables::Batch batch;
  append_removal(batch, contents({a}, {&a}), true);
  EXPECT_EQ(messages(batch), std::vector<std::string>{"delete table ip tether"});

  nftables::Batch replace;  // a repeated ADD that keeps using the family: elements, not the table
  append_removal(replace, contents({a}, {&a}), false);
  EXPECT_EQ(replace.size(), 4u);  // index, udp port, masq, the subnet

  TableContents foreign_element = contents({a}, {&a});
  ++foreign_element.elements;  // e.g. an element an admin added without our comment
  nftables::Batch keep1;
  append_removal(keep1, foreign_element, true);
  EXPECT_FALSE(mentions(messages(keep1), "delete table"));

  TableContents foreign_chain = contents({a}, {&a});
  ++foreign_chain.table->use;  // a chain someone added to our table
  nftables::Batch keep2;
  append_removal(keep2, foreign_chain, true);
  EXPECT_FALSE(mentions(messages(keep2), "delete table"));
}

TEST(NftRemoval, NothingOwnedNothingWritten) {
  const NatPlan a = plan("net1", "a", "10.77.0.2/24", 5353);
  nftables::Batch batch;
  EXPECT_TRUE(append_removal(batch, contents({a}, {}), true).empty());
  EXPECT_TRUE(batch.empty());
  TableContents absent;
  EXPECT_TRUE(append_removal(batch, absent, true).empty());
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace tether::firewall::nft
