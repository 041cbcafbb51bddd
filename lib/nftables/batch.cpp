#include "lib/nftables/batch.hpp"

#include "lib/util/fault.hpp"

#include <cstdio>  // libnftnl headers use FILE without including it

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/nftnl_build.hpp"
#include "lib/nftables/socket.hpp"
#include "lib/util/fault.hpp"

namespace tether::nftables {
namespace {

// Room for one message while libnftnl writes it (it does not bound-check); ours stay < 2 KiB:
// names and comments are short and a rule has a dozen expressions.
constexpr std::size_t kMaxMessage = 16 * 1024;

std::string where(Family f, const std::string& table) { return std::string(family_name(f)) + " " + table; }

// BATCH_BEGIN/END: nfgenmsg with res_id = the nf_tables subsystem. libnftnl's nftnl_batch_begin
// has no way to add NFNL_BATCH_GENID, so this builds both by hand.
void put_batch_marker(std::vector<char>& out, std::uint16_t type, std::uint32_t seq,
                      std::optional<std::uint32_t> genid) {
  const std::size_t at = out.size();
  out.resize(at + 64);
  nlmsghdr* nlh = mnl_nlmsg_put_header(out.data() + at);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(NFNL_SUBSYS_NFTABLES);
  if (genid) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(*genid));
  out.resize(at + NLMSG_ALIGN(nlh->nlmsg_len));
}

}  // namespace

Batch::Batch() { buf_.reserve(8 * 1024); }

char* Batch::reserve_message() {
  if (!scratch_) scratch_ = std::make_unique<char[]>(kMaxMessage);  // zeroed
  return scratch_.get();
}

std::size_t Batch::finish_message(std::string what) {
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(scratch_.get());
  if (nlh->nlmsg_len > kMaxMessage) std::abort();  // libnftnl wrote past our room: memory is corrupt
  const std::size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
  offsets_.push_back(buf_.size());
  buf_.insert(buf_.end(), scratch_.get(), scratch_.get() + len);
  // Zero again what this message used: libmnl 1.0.4 leaves attribute padding unwritten, and no
  // uninitialised byte may reach the kernel.
  std::memset(scratch_.get(), 0, len);
  whats_.push_back(std::move(what));
  return whats_.size() - 1;
}

// The sequence number is a placeholder (the message index); commit() renumbers and asks the last
// message for an ack.
#define TETHER_HDR(type, family, flags)                                                       \
  nftnl_nlmsg_build_hdr(reserve_message(), type, static_cast<std::uint16_t>(family), (flags), \
                        static_cast<std::uint32_t>(whats_.size()))

std::size_t Batch::add_table(const Table& t, bool exclusive) {
  auto obj = detail::table_object(t, true);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWTABLE, t.family, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0));
  nftnl_table_nlmsg_build_payload(nlh, obj.get());
  return finish_message("add table " + where(t.family, t.name));
}

std::size_t Batch::del_table(Family f, const std::string& name) {
  auto obj = detail::table_object(Table{f, name, {}}, false);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_DELTABLE, f, 0);
  nftnl_table_nlmsg_build_payload(nlh, obj.get());
  return finish_message("delete table " + where(f, name));
}

std::size_t Batch::add_chain(const Chain& c, bool exclusive) {
  auto obj = detail::chain_object(c, true);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWCHAIN, c.family, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0));
  nftnl_chain_nlmsg_build_payload(nlh, obj.get());
  return finish_message("add chain " + where(c.family, c.table) + " " + c.name);
}

std::size_t Batch::del_chain(Family f, const std::string& table, const std::string& name) {
  Chain c;
  c.family = f;
  c.table = table;
  c.name = name;
  auto obj = detail::chain_object(c, false);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_DELCHAIN, f, 0);
  nftnl_chain_nlmsg_build_payload(nlh, obj.get());
  return finish_message("delete chain " + where(f, table) + " " + name);
}

std::size_t Batch::flush_chain(Family f, const std::string& table, const std::string& name) {
  auto obj = detail::rule_ref(f, table, name, 0);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_DELRULE, f, 0);
  nftnl_rule_nlmsg_build_payload(nlh, obj.get());
  return finish_message("flush chain " + where(f, table) + " " + name);
}

std::size_t Batch::add_set(const Set& s) {
  auto obj = detail::set_object(s, static_cast<std::uint32_t>(whats_.size() + 1));
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWSET, s.family, NLM_F_CREATE);
  nftnl_set_nlmsg_build_payload(nlh, obj.get());
  return finish_message(std::string(s.is_map() ? "add map " : "add set ") + where(s.family, s.table) + " " + s.name);
}

std::size_t Batch::add_element(const Element& e, bool exclusive) {
  auto obj = detail::element_object(e, true);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWSETELEM, e.family, NLM_F_CREATE | (exclusive ? NLM_F_EXCL : 0));
  nftnl_set_elems_nlmsg_build_payload(nlh, obj.get());
  return finish_message("add element { " + e.label + " } to " + where(e.family, e.table) + " @" + e.set);
}

std::size_t Batch::del_element(const Element& e) {
  auto obj = detail::element_object(e, false);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_DELSETELEM, e.family, 0);
  nftnl_set_elems_nlmsg_build_payload(nlh, obj.get());
  return finish_message("delete element { " + e.label + " } from " + where(e.family, e.table) + " @" + e.set);
}

std::size_t Batch::add_rule(const Rule& r) {
  auto obj = detail::rule_object(r);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWRULE, r.family, NLM_F_CREATE | NLM_F_APPEND);
  nftnl_rule_nlmsg_build_payload(nlh, obj.get());
  return finish_message("add rule " + where(r.family, r.table) + " " + r.chain + " " +
                        to_string(r.statements, r.family == Family::Ip6));
}

// NEWRULE without NLM_F_APPEND and without a position: the kernel puts the rule first (what
// `nft insert rule` and `iptables -I` send).
std::size_t Batch::insert_rule(const Rule& r) {
  auto obj = detail::rule_object(r);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_NEWRULE, r.family, NLM_F_CREATE);
  nftnl_rule_nlmsg_build_payload(nlh, obj.get());
  return finish_message("insert rule " + where(r.family, r.table) + " " + r.chain + " " +
                        to_string(r.statements, r.family == Family::Ip6));
}

std::size_t Batch::del_rule(Family f, const std::string& table, const std::string& chain, std::uint64_t handle) {
  auto obj = detail::rule_ref(f, table, chain, handle);
  nlmsghdr* nlh = TETHER_HDR(NFT_MSG_DELRULE, f, 0);
  nftnl_rule_nlmsg_build_payload(nlh, obj.get());
  return finish_message("delete rule " + where(f, table) + " " + chain + " handle " + std::to_string(handle));
}

#undef TETHER_HDR

void Batch::commit(Socket& sock, std::optional<std::uint32_t> genid) const {
  if (whats_.empty()) return;
  fault::point("nftables: batch");
  std::vector<char> out;
  out.reserve(buf_.size() + 128);
  const std::uint32_t begin_seq = sock.next_seq();
  put_batch_marker(out, NFNL_MSG_BATCH_BEGIN, begin_seq, genid);
  std::map<std::uint32_t, std::size_t> index_of_seq;
  const std::size_t base = out.size();
  out.insert(out.end(), buf_.begin(), buf_.end());
  for (std::size_t i = 0; i < offsets_.size(); ++i) {
    auto* nlh = reinterpret_cast<nlmsghdr*>(out.data() + base + offsets_[i]);
    nlh->nlmsg_seq = sock.next_seq();
    index_of_seq[nlh->nlmsg_seq] = i;
    // Only the last message asks for an ack: a failing message is answered anyway (the kernel
    // reports every error of a batch), and one ack instead of one per message spares the kernel
    // an ack skb per message and us reading them.
    if (i + 1 == offsets_.size()) nlh->nlmsg_flags |= NLM_F_ACK;
  }
  put_batch_marker(out, NFNL_MSG_BATCH_END, sock.next_seq(), std::nullopt);

  sock.reserve(out.size(), whats_.size());
  const std::string what = "nftables: batch of " + std::to_string(whats_.size()) + " messages";
  sock.send(out.data(), out.size(), what);
  std::vector<BatchFailure> failures;
  std::size_t acks = 0;
  sock.drain(
      [&](std::uint32_t seq, int err) {
        if (seq == begin_seq && err) {
          failures.push_back({SIZE_MAX, "batch" + std::string(genid ? " (generation-guarded)" : ""), err});
          return;
        }
        const auto it = index_of_seq.find(seq);
        if (it == index_of_seq.end()) return;  // a stale reply of an earlier exchange
        if (err)
          failures.push_back({it->second, whats_[it->second], err});
        else
          ++acks;
      },
      true, what);
  if (!failures.empty()) {
    const auto& f = failures.front();
    std::string summary = "nftables: " + f.what;
    if (failures.size() > 1) summary += " (and " + std::to_string(failures.size() - 1) + " more failed messages)";
    throw BatchError(std::move(failures), summary);
  }
  if (acks != 1) throw NftError(what + ": no ack for its last message", EPROTO);
}

}  // namespace tether::nftables
