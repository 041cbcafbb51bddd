// nftables backend of tether::firewall::Firewall. Layout: ruleset.hpp (a fixed skeleton; an
// attachment is nothing but set/map elements carrying its comment). How each verb talks to the
// kernel:
//
// ADD  ONE batch: the attachment's elements, all NLM_F_EXCL, the `attachments` index element
//      first of each family; its networks' `subnets` elements without (shared, they may be there);
//      with the network's FORWARD accepts (add_with_forward), what of them is missing, read first,
//      the batch then generation-guarded. Reads: one dump of the tables (where ours is missing in
//      a family the plan uses, the skeleton, created idempotently, goes into the same batch), one
//      GET of the index per family it leaves out that has our table (an earlier ADD of the same
//      key may have used it), and the accepts' (only where iptables-nft's filter table exists).
//      The kernel's answer picks the next step:
//        ENOENT everywhere       -> a table (or a set) went missing since the GET: resend with
//                                   the skeleton (NLM_F_CREATE; base chains flushed and refilled:
//                                   a rule has no "create if missing").
//        EEXIST on the index     -> ADD again for the same key = replace: read the tables, delete
//                                   every element carrying this attachment's hash and add the new
//                                   ones, in one generation-guarded batch.
//        EEXIST/ENOTEMPTY on     -> the port (address, interface) belongs to another attachment:
//        another element            the runtime has given it to this one (it never hands one port
//                                   or address to two live containers), so the other is a
//                                   leftover whose DEL never came: take the element over (logged,
//                                   naming the old owner), in a generation-guarded batch. A
//                                   subnet overlapping another network's is a configuration
//                                   conflict: fail naming the network; nothing was applied.
// DEL  GET the index element in each family: absent everywhere -> done (no dump, nothing
//      created). Else read the tables (generation first) and delete, in one generation-guarded
//      batch, every element carrying the attachment's hash (and its network's subnet elements when
//      it was the network's last attachment in that table); a table whose last attachment this
//      was goes as a whole. ERESTART (someone committed in between) -> read again, bounded.
//      The network's last attachment (del_with_forward): no index lookups; the same batch takes
//      the network's FORWARD accepts, read with the tables.
// GC   list the index, parse its comments, remove every stale attachment of the network like DEL,
//      all in one batch.
// FORWARD accepts (forward_rules.hpp): a dump of the tables; where iptables-nft's filter table
//      exists, per family, GETs and dumps of a few small chains of it (nothing created), then one
//      generation-guarded batch with what is missing (ensure) or the network's rules (remove);
//      nothing missing or nothing there writes nothing. ERESTART -> read again, bounded.
#include "lib/fw_nftables/nftables_firewall.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>

#include "lib/firewall/naming.hpp"
#include "lib/firewall/udp_flows.hpp"
#include "lib/fw_nftables/forward_rules.hpp"
#include "lib/fw_nftables/forward_sync.hpp"
#include "lib/fw_nftables/nft_check.hpp"
#include "lib/fw_nftables/ruleset.hpp"
#include "lib/fw_nftables/table_contents.hpp"
#include "lib/log/log.hpp"
#include "lib/nftables/batch.hpp"
#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/reader.hpp"
#include "lib/nftables/socket.hpp"
#include "lib/util/error.hpp"

namespace tether::firewall {
namespace {

using namespace nft;
using nftables::Batch;
using nftables::BatchError;
using nftables::NftError;
using nftables::Socket;

// Generation-guarded batches lose against every concurrent commit in the netns; with a jittered
// pause this bound holds under dozens of concurrent writers (tests: 16 threads).
constexpr int kMaxAttempts = 50;
using UdpPorts = std::vector<std::pair<Family, std::vector<std::uint16_t>>>;

void pause_before_retry(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int max_us = std::min(attempt, 10) * 500;
  std::this_thread::sleep_for(std::chrono::microseconds(rng() % (max_us + 1)));
}

[[noreturn]] void throw_exhausted(const std::string& what) {
  throw Error("nftables: " + what + ": the ruleset kept changing (" + std::to_string(kMaxAttempts) +
                  " attempts); try again",
              kTryAgainLater);
}

void flush_udp_conntrack(const UdpPorts& ports) noexcept {
  for (const auto& [family, list] : ports)
    if (family != Family::Bridge) forget_udp_flows(family == Family::Ip ? net::Family::V4 : net::Family::V6, list);
}

// DEL and GC run for every backend, also on kernels without nf_tables: nothing of ours can be
// there then. A single request to the missing nf_tables subsystem is answered with EINVAL (a
// batch with EOPNOTSUPP); our own requests are well-formed (the tests send them).
bool no_nftables(const NftError& e) {
  return nftables::means_no_nftables(e.errno_value()) || e.errno_value() == EINVAL;
}

std::optional<Socket> open_if_available() {
  try {
    return Socket::open();
  } catch (const NftError& e) {
    if (no_nftables(e)) return std::nullopt;
    throw;
  }
}

void add_skeleton(Batch& b, Family f, std::vector<std::size_t>& set_msgs) {
  const Skeleton s = skeleton(f);
  b.add_table(s.table);
  for (const auto& set : s.sets) set_msgs.push_back(b.add_set(set));
  for (const auto& c : s.base_chains) {
    b.add_chain(c);
    b.flush_chain(f, kTable, c.name);
  }
  for (const auto& r : s.rules) b.add_rule(r);
}

bool failed_with(const BatchError& e, std::size_t index, std::initializer_list<int> errs) {
  return std::any_of(e.failures().begin(), e.failures().end(), [&](const nftables::BatchFailure& f) {
    return f.index == index && std::find(errs.begin(), errs.end(), f.err) != errs.end();
  });
}

bool only(const BatchError& e, int err) {
  return std::all_of(e.failures().begin(), e.failures().end(),
                     [&](const nftables::BatchFailure& f) { return f.err == err; });
}

// "net=... id=... if=..." of the attachment (or "network net=...") holding the element `e`
// clashed with.
std::string owner_of(Socket& sock, const nftables::Element& e) {
  try {
    auto found = nftables::get_element(sock, e);
    if (!found && !e.key_end.empty()) {  // a range overlapping ours at its end
      nftables::Element at_end = e;
      at_end.key = e.key_end;
      found = nftables::get_element(sock, at_end);
    }
    if (!found) return "owner unknown";
    if (const auto tag = parse_attachment_comment(found->comment)) return std::string(tag->readable);
    if (parse_network_rule_comment(found->comment)) return found->comment.substr(found->comment.find(":network ") + 1);
    return "not written by tether: comment '" + found->comment + "'";
  } catch (const std::exception& ex) {
    return std::string("owner unknown: ") + ex.what();
  }
}

constexpr Family kIpFamilies[] = {Family::Ip, Family::Ip6};

// The families of which `plan` has subnets.
std::vector<Family> forward_families(const ForwardPlan& plan) {
  std::vector<Family> out;
  for (Family f : kIpFamilies)
    if (!forward_subnets(plan, f).empty()) out.push_back(f);
  return out;
}

// Reads (through `stage`, which appends to the batch what the reads call for) and commits in one
// generation-guarded batch; again from the reads when someone committed in between. Nothing
// staged: nothing written.
template <class Stage>
void commit_guarded(Socket& sock, const std::string& what, Stage&& stage) {
  for (int attempt = 1;; ++attempt) {
    const std::uint32_t genid = sock.genid();  // before the reads the batch is based on
    Batch b;
    stage(b);
    if (b.empty()) return;
    try {
      b.commit(sock, genid);
      return;
    } catch (const BatchError& e) {
      if (attempt >= kMaxAttempts) throw_exhausted(what);
      if (!e.any(ERESTART)) throw;
      pause_before_retry(attempt);
    }
  }
}

class NftablesFirewallImpl final : public Firewall {
 public:
  void add(const NatPlan& plan) override;
  void add_with_forward(const NatPlan& plan, const ForwardPlan& forward) override;
  void del(const AttachmentKey& key) override;
  void del_with_forward(const AttachmentKey& key) override;
  void check(const NatPlan& plan) override;
  void gc(const std::string& network, const std::vector<AttachmentKey>& valid) override;
  void ensure_forward(const ForwardPlan& plan) override;
  void remove_forward(const std::string& network) override;
  void check_forward(const ForwardPlan& plan) override;

 private:
  // Kept open for the object's life: closing a netfilter socket right after a commit waits for
  // the kernel's deferred release of that batch (an RCU grace period, ~0.3 ms); an ADD closes it
  // at its end, when that release is long done.
  Socket& socket() {
    if (!sock_) sock_ = Socket::open();
    return *sock_;
  }
  UdpPorts write(const AttachmentKey& key, const std::vector<AttachmentObjects>& objects, const ForwardPlan* forward);
  // The member socket, opened on first use; nullptr on a kernel without nf_tables.
  Socket* socket_if_available() {
    if (!sock_) sock_ = open_if_available();
    return sock_ ? &*sock_ : nullptr;
  }
  // The FORWARD verbs run for every backend at every ADD: the tables that exist are listed first
  // (one dump), and where no family of `families` has iptables-nft's filter table (no drop there,
  // nothing of ours) nothing more is read or written: nullopt then, for no family, and on a kernel
  // without nf_tables. Otherwise the member socket is open.
  std::optional<nftables::TableNames> forward_tables(const std::vector<Family>& families);
  // `forward_of`: also the accepts of that network (its last attachment is leaving).
  UdpPorts remove(Socket& sock, const HashSet& hashes, const std::string* forward_of = nullptr);

  std::optional<Socket> sock_;
};

void append_logged(Batch& b, const ForwardWrite& w) {
  for (const auto& m : w.describe()) log::debug("forward: adding " + m);
  w.append_to(b);
}

std::optional<nftables::TableNames> NftablesFirewallImpl::forward_tables(const std::vector<Family>& families) {
  Socket* sock = families.empty() ? nullptr : socket_if_available();
  if (!sock) return std::nullopt;
  std::optional<nftables::TableNames> tables;
  try {
    tables = nftables::list_tables(*sock);
  } catch (const NftError& e) {
    if (no_nftables(e)) return std::nullopt;
    throw;
  }
  for (Family f : families)
    if (tables->has(f, kFilterTable)) return tables;
  return std::nullopt;
}

void NftablesFirewallImpl::add(const NatPlan& plan) {
  if (plan.empty()) return;  // idle cost: an ADD without NAT work never touches netfilter
  const std::vector<AttachmentObjects> objects = attachment_objects(plan);  // validate before any syscall
  if (objects.empty()) return;
  flush_udp_conntrack(write(plan.key, objects, nullptr));
}

void NftablesFirewallImpl::add_with_forward(const NatPlan& plan, const ForwardPlan& forward) {
  const std::vector<AttachmentObjects> objects = plan.empty() ? std::vector<AttachmentObjects>{}
                                                              : attachment_objects(plan);
  if (objects.empty()) return ensure_forward(forward);
  flush_udp_conntrack(write(plan.key, objects, forward_families(forward).empty() ? nullptr : &forward));
}

UdpPorts NftablesFirewallImpl::write(const AttachmentKey& key, const std::vector<AttachmentObjects>& objects,
                                     const ForwardPlan* forward) {
  Socket& sock = socket();
  const HashSet own = {attachment_hash(key)};
  auto uses = [&](Family f) {
    return std::any_of(objects.begin(), objects.end(), [&](const AttachmentObjects& o) { return o.family == f; });
  };
  // Objects of an earlier ADD of this key in a family this plan leaves out would never clash with
  // the new ones: only a read finds them.
  bool replace = false, skeleton_everywhere = false;
  std::vector<const nftables::Element*> taken_over;  // other attachments' leftovers this ADD replaces
  for (int attempt = 1;; ++attempt) {
    // Which tables exist (ours, iptables-nft's filter): one dump for what would be a GET each.
    const nftables::TableNames tables = nftables::list_tables(sock);
    if (attempt == 1)
      for (Family f : kAllFamilies)
        if (!uses(f) && tables.has(f, kTable) && nftables::get_element(sock, index_element(f, key))) replace = true;
    Batch b;
    std::optional<std::uint32_t> genid;
    UdpPorts udp;
    std::vector<std::size_t> set_msgs;
    std::vector<std::pair<std::size_t, const nftables::Element*>> element_msgs;
    // Missing accepts are written on the basis of the reads: the batch is then generation-guarded
    // (two ADDs must not both append them). Elements and the idempotent skeleton need no guard,
    // so concurrent ADDs of a network whose accepts are in place do not invalidate each other.
    std::vector<ForwardWrite> accepts;
    if (replace || !taken_over.empty()) genid = sock.genid();  // before the reads the batch is based on
    if (forward)
      for (Family f : forward_families(*forward)) {
        if (!tables.has(f, kFilterTable)) continue;  // no drop there
        if (!genid) genid = sock.genid();
        accepts.push_back(xt_forward_missing(read_xt_forward(sock, f, &tables), *forward));
      }
    const bool writes_accepts = std::any_of(accepts.begin(), accepts.end(),
                                            [](const ForwardWrite& w) { return !w.empty(); });
    if (!replace && taken_over.empty() && !writes_accepts) genid.reset();
    // Where our table is missing the skeleton goes into this batch, instead of a batch the kernel
    // would refuse (its abort waits for an expedited RCU grace period) and a second one.
    std::vector<Family> skeletons;  // tables this batch creates
    for (const auto& o : objects)
      if (skeleton_everywhere || !tables.has(o.family, kTable)) skeletons.push_back(o.family);
    for (const nftables::Element* e : taken_over) b.del_element(*e);
    if (replace) {
      for (Family f : kAllFamilies) {
        if (!tables.has(f, kTable)) continue;
        auto ports = append_removal(b, read_table(sock, f, own), /*may_drop_table=*/!uses(f));
        if (!ports.empty()) udp.emplace_back(f, std::move(ports));
      }
    }
    for (Family f : skeletons) add_skeleton(b, f, set_msgs);
    for (const auto& a : accepts) append_logged(b, a);
    for (const auto& o : objects) {
      for (const auto& e : o.elements) element_msgs.emplace_back(b.add_element(e, /*exclusive=*/true), &e);
      // Identical: success (another attachment of the network wrote it); overlapping: EEXIST.
      for (const auto& e : o.network_elements) element_msgs.emplace_back(b.add_element(e), &e);
      udp.emplace_back(o.family, o.udp_host_ports);
    }
    try {
      b.commit(sock, genid);
      return udp;
    } catch (const BatchError& e) {
      if (attempt >= kMaxAttempts) throw_exhausted("add");
      if (e.any(ERESTART)) {
        pause_before_retry(attempt);
        continue;
      }
      auto clashed = [&](std::size_t index) { return failed_with(e, index, {EEXIST, ENOTEMPTY}); };
      if (!replace && std::any_of(element_msgs.begin(), element_msgs.end(), [&](const auto& m) {
            return m.second->set == kAttachmentsSet && clashed(m.first);
          })) {
        replace = true;  // this attachment is there already
        continue;
      }
      bool taking_over = false;
      for (const auto& [index, element] : element_msgs) {
        if (!clashed(index)) continue;
        if (element->set == kSubnetsSet)
          throw Error("nftables: " + conflict_text(element->set, element->label) + " (" + owner_of(sock, *element) +
                          "); nothing was changed",
                      kInternal);
        log::warn("nftables: " + conflict_text(element->set, element->label) + " for another attachment (" +
                  owner_of(sock, *element) + "), a leftover: taken over by " + key.container_id);
        taken_over.push_back(element);
        taking_over = true;
      }
      if (taking_over) continue;
      for (std::size_t index : set_msgs)
        if (failed_with(e, index, {EEXIST}))
          throw Error(std::string("nftables: ") + e.what() +
                          ": the table holds a set of that name with another layout (written by an older tether?);"
                          " nothing was changed",
                      kInternal);
      // A table (or set) that went missing after the GET: created idempotently, the rest again.
      if (!skeleton_everywhere && only(e, ENOENT)) {
        skeleton_everywhere = true;
        continue;
      }
      throw;
    }
  }
}

UdpPorts NftablesFirewallImpl::remove(Socket& sock, const HashSet& hashes, const std::string* forward_of) {
  const std::string net_hash = forward_of ? network_hash(*forward_of) : std::string();
  for (int attempt = 1;; ++attempt) {
    const std::uint32_t genid = sock.genid();  // before the reads the batch is based on
    Batch b;
    UdpPorts udp;
    const nftables::TableNames tables = nftables::list_tables(sock);
    for (Family f : kAllFamilies) {
      if (!tables.has(f, kTable)) continue;
      auto ports = append_removal(b, read_table(sock, f, hashes), /*may_drop_table=*/true);
      if (!ports.empty()) udp.emplace_back(f, std::move(ports));
    }
    if (forward_of)
      for (Family f : kIpFamilies) append_xt_forward_removal(b, read_xt_forward(sock, f, &tables), net_hash);
    if (b.empty()) return {};  // nothing there: nothing written
    try {
      b.commit(sock, genid);
      return udp;
    } catch (const BatchError& e) {
      if (attempt >= kMaxAttempts) throw_exhausted("remove " + std::to_string(hashes.size()) + " attachment(s)");
      if (!e.any(ERESTART)) throw;
      pause_before_retry(attempt);
    }
  }
}

void NftablesFirewallImpl::del(const AttachmentKey& key) {
  Socket* sock = socket_if_available();
  if (!sock) return;
  bool present = false;
  try {
    for (Family f : kAllFamilies)
      if (nftables::get_element(*sock, index_element(f, key))) {
        present = true;
        break;
      }
  } catch (const NftError& e) {
    if (no_nftables(e)) return;
    throw;
  }
  if (!present) return;  // the common repeated DEL: three lookups, nothing read in bulk, nothing written
  flush_udp_conntrack(remove(*sock, {attachment_hash(key)}));
}

void NftablesFirewallImpl::del_with_forward(const AttachmentKey& key) {
  Socket* sock = socket_if_available();
  if (!sock) return;
  try {
    flush_udp_conntrack(remove(*sock, {attachment_hash(key)}, &key.network));
  } catch (const NftError& e) {
    if (no_nftables(e)) return;
    throw;
  }
}

void NftablesFirewallImpl::gc(const std::string& network, const std::vector<AttachmentKey>& valid) {
  const std::string net_hash = network_hash(network);
  HashSet keep;
  for (const auto& k : valid) keep.insert(attachment_hash({network, k.container_id, k.ifname}));
  auto sock = open_if_available();
  if (!sock) return;
  HashSet stale;
  try {
    for (Family f : kAllFamilies)
      for (const auto& e : nftables::list_elements(*sock, f, kTable, kAttachmentsSet)) {
        const auto tag = parse_attachment_comment(e.comment);
        if (tag && tag->network_hash == net_hash && !keep.count(tag->attachment_hash))
          stale.emplace(tag->attachment_hash);
      }
  } catch (const NftError& e) {
    if (no_nftables(e)) return;
    throw;
  }
  if (!stale.empty()) flush_udp_conntrack(remove(*sock, stale));
}

void NftablesFirewallImpl::check(const NatPlan& plan) {
  if (plan.empty()) return;
  const auto objects = attachment_objects(plan);
  if (objects.empty()) return;
  check_attachment(socket(), plan.key, objects);
}

void NftablesFirewallImpl::ensure_forward(const ForwardPlan& plan) {
  const std::vector<Family> families = forward_families(plan);
  const auto tables = forward_tables(families);
  if (!tables) return;
  Socket& sock = socket();
  commit_guarded(sock, "forward accepts of network '" + plan.network + "'", [&](Batch& b) {
    for (Family f : families) append_logged(b, xt_forward_missing(read_xt_forward(sock, f, &*tables), plan));
  });
}

void NftablesFirewallImpl::remove_forward(const std::string& network) {
  const std::vector<Family> families(std::begin(kIpFamilies), std::end(kIpFamilies));
  const auto tables = forward_tables(families);
  if (!tables) return;
  Socket& sock = socket();
  const std::string hash = network_hash(network);
  commit_guarded(sock, "remove the forward accepts of network '" + network + "'", [&](Batch& b) {
    for (Family f : families) append_xt_forward_removal(b, read_xt_forward(sock, f, &*tables), hash);
  });
}

void NftablesFirewallImpl::check_forward(const ForwardPlan& plan) {
  const std::vector<Family> families = forward_families(plan);
  const auto tables = forward_tables(families);
  if (!tables) return;
  std::vector<std::string> missing;
  for (Family f : families)
    for (auto& m : xt_forward_missing(read_xt_forward(socket(), f, &*tables), plan).describe())
      missing.push_back(std::move(m));
  if (missing.empty()) return;
  std::string msg = "nftables forward rules missing for network '" + plan.network + "':";
  for (const auto& m : missing) msg += " [" + m + "]";
  throw Error(msg, kInternal);
}

}  // namespace

std::unique_ptr<Firewall> make_nftables_firewall() { return std::make_unique<NftablesFirewallImpl>(); }

bool nftables_available() { return nftables::kernel_has_nftables(); }

}  // namespace tether::firewall
