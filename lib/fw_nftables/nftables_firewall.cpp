// nftables backend of tether::firewall::Firewall. Layout: ruleset.hpp. How each verb talks to
// the kernel:
//
// ADD  one batch, no reads in the steady state: the attachment's chains (NLM_F_EXCL), rules and
//      map elements. The kernel's answer picks the next step:
//        ENOENT everywhere      -> the table (or a map) is missing: resend with the skeleton,
//                                  created idempotently (tables/maps/base chains with
//                                  NLM_F_CREATE; base chains flushed and refilled: a rule has no
//                                  "create if missing").
//        EEXIST on our chain    -> ADD again for the same key = replace: read the old objects,
//                                  delete them and add the new ones in one generation-guarded
//                                  batch.
//        EEXIST on an element   -> the port (or address) belongs to another attachment: fail,
//                                  nothing applied (batches are atomic).
// DEL  read (generation first), then one generation-guarded batch: the elements that still
//      point at the attachment's chains, the chains; the whole table when only the skeleton would
//      remain. ERESTART (someone committed in between) -> read again, bounded.
// GC   list the chains, parse their comments, DEL each stale attachment of the network.
// DEL and GC cover every family, macspoofchk's `bridge tether` included.
#include "lib/fw_nftables/nftables_firewall.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>
#include <set>
#include <thread>

#include "lib/firewall/naming.hpp"
#include "lib/fw_nftables/attachment_state.hpp"
#include "lib/fw_nftables/nft_check.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/firewall/udp_flows.hpp"
#include "lib/log/log.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/socket.hpp"
#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"

namespace tether::firewall {
namespace {

using namespace nft;
using nftables::Batch;
using nftables::BatchError;
using nftables::Socket;

// Generation-guarded batches lose against every concurrent commit in the netns; with a jittered
// pause this bound holds under dozens of concurrent writers (tests: 16 threads).
constexpr int kMaxAttempts = 50;
using UdpPorts = std::vector<std::pair<Family, std::vector<std::uint16_t>>>;

net::Family net_family(Family f) { return f == Family::Ip ? net::Family::V4 : net::Family::V6; }

void pause_before_retry(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int max_us = std::min(attempt, 10) * 500;
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % (max_us + 1)));
}

[[noreturn]] void throw_exhausted(const std::string& what) {
  throw Error("nat (nftables): " + what + ": the ruleset kept changing (" + std::to_string(kMaxAttempts) +
                  " attempts); try again",
              kTryAgainLater);
}

void flush_udp_conntrack(const UdpPorts& ports) noexcept {
  for (const auto& [family, list] : ports) forget_udp_flows(net_family(family), list);
}

void add_skeleton(Batch& b, Family f) {
  const Skeleton s = skeleton(f);
  b.add_table(s.table);
  for (const auto& m : s.maps) b.add_set(m);
  for (const auto& c : s.base_chains) {
    b.add_chain(c);
    b.flush_chain(f, kTable, c.name);
  }
  for (const auto& r : s.rules) b.add_rule(r);
}

bool has_failure(const BatchError& e, const std::vector<std::size_t>& indexes, int err) {
  return std::any_of(e.failures().begin(), e.failures().end(), [&](const nftables::BatchFailure& f) {
    return f.err == err && std::find(indexes.begin(), indexes.end(), f.index) != indexes.end();
  });
}

bool only(const BatchError& e, int err) {
  return std::all_of(e.failures().begin(), e.failures().end(), [&](const nftables::BatchFailure& f) { return f.err == err; });
}

// "net=... id=... if=..." of the attachment an element sends traffic to, for conflict messages.
std::string owner_of(Socket& sock, const nftables::Element& e) {
  try {
    const auto found = nftables::get_element(sock, e.family, kTable, e.set, e.key);
    if (!found || !found->verdict) return "owner unknown";
    const auto chain = nftables::get_chain(sock, e.family, kTable, found->verdict->chain);
    if (!chain) return "chain " + found->verdict->chain;
    const auto tag = parse_attachment_comment(chain->comment);
    return tag ? std::string(tag->readable) : "chain " + found->verdict->chain;
  } catch (const std::exception& ex) {
    return std::string("owner unknown: ") + ex.what();
  }
}

class NftablesFirewallImpl final : public NftablesFirewall {
 public:
  void add(const NatPlan& plan) override;
  void del(const AttachmentKey& key) override;
  void check(const NatPlan& plan) override;
  void gc(const std::string& network, const std::vector<AttachmentKey>& valid) override;
  void add_macspoof(const MacSpoofPlan& plan) override;
  void check_macspoof(const MacSpoofPlan& plan) override;

 private:
  // Writes an attachment's objects, replacing what it had in the `scope` families.
  UdpPorts write(Socket& sock, const std::string& attachment_hash, const std::vector<AttachmentObjects>& objects,
                 const std::vector<Family>& scope);
  UdpPorts remove(Socket& sock, const std::string& attachment_hash);
};

void NftablesFirewallImpl::add(const NatPlan& plan) {
  if (plan.empty()) return;  // idle cost: an ADD without NAT work never touches netfilter
  const std::vector<AttachmentObjects> objects = attachment_objects(plan);  // validate before any syscall
  if (objects.empty()) return;
  Socket sock = Socket::open();
  flush_udp_conntrack(write(sock, attachment_hash(plan.key), objects, {Family::Ip, Family::Ip6}));
}

void NftablesFirewallImpl::add_macspoof(const MacSpoofPlan& plan) {
  const std::vector<AttachmentObjects> objects = {macspoof_objects(plan)};
  Socket sock = Socket::open();
  write(sock, attachment_hash(plan.key), objects, {Family::Bridge});
}

UdpPorts NftablesFirewallImpl::write(Socket& sock, const std::string& hash, const std::vector<AttachmentObjects>& objects,
                                     const std::vector<Family>& scope) {
  auto uses = [&](Family f) {
    return std::any_of(objects.begin(), objects.end(), [&](const AttachmentObjects& o) { return o.family == f; });
  };

  enum class Mode { Fast, Full, Replace } mode = Mode::Fast;
  // Objects of an earlier ADD of this key in a family this plan leaves out would never collide
  // with the new ones: only a read finds them (single-stack plans: one or three requests).
  for (Family f : scope) {
    if (uses(f) || !nftables::get_table(sock, f, kTable)) continue;
    for (ChainKind k : chain_kinds(f))
      if (nftables::get_chain(sock, f, kTable, attachment_chain(hash, k))) mode = Mode::Replace;
  }

  bool scan_maps = false;
  UdpPorts udp;
  for (int attempt = 1;; ++attempt) {
    Batch b;
    std::optional<std::uint32_t> genid;
    udp.clear();
    std::vector<std::size_t> chain_msgs, removal_msgs;
    std::vector<std::pair<std::size_t, const nftables::Element*>> element_msgs;
    if (mode == Mode::Replace) {
      genid = sock.genid();  // before the reads the batch is based on
      for (Family f : scope) {
        const auto table = nftables::get_table(sock, f, kTable);
        if (!table) continue;
        const AttachmentState old = read_attachment(sock, f, hash, scan_maps);
        if (old.empty()) continue;
        udp.emplace_back(f, old.udp_host_ports);
        const std::size_t first = b.size();
        if (!uses(f) && table->use - old.chains.size() <= skeleton_objects(f))
          b.del_table(f, kTable);
        else
          remove_attachment(b, old);
        for (std::size_t i = first; i < b.size(); ++i) removal_msgs.push_back(i);
      }
    }
    for (const auto& o : objects) {
      if (mode != Mode::Fast) add_skeleton(b, o.family);
      for (const auto& c : o.chains) chain_msgs.push_back(b.add_chain(c, /*exclusive=*/true));
      for (const auto& r : o.rules) b.add_rule(r);
      for (const auto& e : o.elements) element_msgs.emplace_back(b.add_element(e), &e);
      udp.emplace_back(o.family, o.udp_host_ports);
    }
    try {
      b.commit(sock, genid);
      break;
    } catch (const BatchError& e) {
      if (attempt >= kMaxAttempts) throw_exhausted("add");
      if (e.any(ERESTART)) {
        pause_before_retry(attempt);
        continue;
      }
      if (has_failure(e, chain_msgs, EEXIST)) {
        if (mode == Mode::Replace) throw;  // our chains were just deleted in this very batch
        mode = Mode::Replace;
        continue;
      }
      for (const auto& [index, element] : element_msgs) {
        if (!has_failure(e, {index}, EEXIST)) continue;
        const std::string set = element->set;
        const std::string what = set == kMasqMap       ? "container address " + element->label + " is already masqueraded"
                                 : set == kMacspoofMap ? "interface " + element->label + " is already MAC-checked"
                                                       : "host port " + element->label + " is already published";
        throw Error("nat (nftables): " + what + " for another attachment (" + owner_of(sock, *element) +
                        "); nothing was changed",
                    kInternal);
      }
      if (mode == Mode::Fast && only(e, ENOENT)) {
        mode = Mode::Full;
        continue;
      }
      if (mode == Mode::Replace && !scan_maps && has_failure(e, removal_msgs, EBUSY)) {
        scan_maps = true;  // an element we could not derive from the rules still points at a chain
        continue;
      }
      throw;
    }
  }
  return udp;
}

UdpPorts NftablesFirewallImpl::remove(Socket& sock, const std::string& hash) {
  bool scan_maps = false;
  for (int attempt = 1;; ++attempt) {
    const std::uint32_t genid = sock.genid();
    Batch b;
    UdpPorts udp;
    for (Family f : kAllFamilies) {
      const auto table = nftables::get_table(sock, f, kTable);
      if (!table) continue;
      const AttachmentState state = read_attachment(sock, f, hash, scan_maps);
      if (state.empty()) continue;
      udp.emplace_back(f, state.udp_host_ports);
      // The last attachment takes the skeleton with it: no tether table without a user.
      if (table->use - state.chains.size() <= skeleton_objects(f))
        b.del_table(f, kTable);
      else
        remove_attachment(b, state);
    }
    if (b.empty()) return {};  // nothing there: nothing written, no table created
    try {
      b.commit(sock, genid);
      return udp;
    } catch (const BatchError& e) {
      if (attempt >= kMaxAttempts) throw_exhausted("remove attachment " + hash);
      if (e.any(ERESTART)) {
        pause_before_retry(attempt);
        continue;
      }
      if (!scan_maps && e.any(EBUSY)) {
        scan_maps = true;
        continue;
      }
      throw;
    }
  }
}

void NftablesFirewallImpl::del(const AttachmentKey& key) {
  if (!nftables::kernel_has_nftables()) return;  // DEL sweeps every backend: none here, nothing of ours
  Socket sock = Socket::open();
  flush_udp_conntrack(remove(sock, attachment_hash(key)));
}

void NftablesFirewallImpl::gc(const std::string& network, const std::vector<AttachmentKey>& valid) {
  const std::string net_hash = network_hash(network);
  std::set<std::string, std::less<>> keep;
  for (const auto& k : valid) keep.insert(attachment_hash({network, k.container_id, k.ifname}));
  if (!nftables::kernel_has_nftables()) return;
  Socket sock = Socket::open();
  std::set<std::string> stale;
  for (Family f : kAllFamilies) {
    if (!nftables::get_table(sock, f, kTable)) continue;
    for (const auto& c : nftables::list_chains(sock, f, kTable)) {
      const auto name = parse_attachment_chain(c.name);
      const auto tag = parse_attachment_comment(c.comment);
      if (!name || !tag || tag->attachment_hash != name->attachment_hash) continue;
      if (tag->network_hash == net_hash && keep.count(tag->attachment_hash) == 0) stale.insert(name->attachment_hash);
    }
  }
  util::ErrorList errors;
  for (const auto& hash : stale)
    errors.run("remove stale attachment " + hash, [&] { flush_udp_conntrack(remove(sock, hash)); });
  errors.throw_if_any();
}

void NftablesFirewallImpl::check(const NatPlan& plan) {
  if (plan.empty()) return;
  const auto objects = attachment_objects(plan);
  Socket sock = Socket::open();
  check_attachment(sock, plan.key, objects);
}

void NftablesFirewallImpl::check_macspoof(const MacSpoofPlan& plan) {
  const std::vector<AttachmentObjects> objects = {macspoof_objects(plan)};
  Socket sock = Socket::open();
  check_attachment(sock, plan.key, objects);
}

}  // namespace

std::unique_ptr<NftablesFirewall> make_nftables_firewall() { return std::make_unique<NftablesFirewallImpl>(); }

bool nftables_available() { return nftables::kernel_has_nftables(); }

}  // namespace tether::firewall
