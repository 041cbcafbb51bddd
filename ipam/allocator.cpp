#include "ipam/allocator.hpp"

#include "lib/cni/error.hpp"
#include "lib/util/error.hpp"
#include "lib/util/undo_stack.hpp"

namespace tether::ipam {

bool allocatable(const Range& r, const net::IpAddress& a) {
  if (!r.contains(a) || a == r.gateway || a == r.subnet.first()) return false;
  return !(a.is_v4() && a == r.subnet.last());
}

RangeIter::RangeIter(const RangeSet& set, const std::optional<net::IpAddress>& last) : set_(set) {
  if (!last) return;
  for (std::size_t i = 0; i < set.ranges.size(); ++i) {
    if (set.ranges[i].contains(*last)) {
      idx_ = i;
      cur_ = *last;  // the first next() yields last + 1
      return;
    }
  }
}

bool RangeIter::advance() {
  if (!cur_) {
    cur_ = set_.ranges[idx_].start;
    start_ = cur_;
    return true;
  }
  if (*cur_ == set_.ranges[idx_].end) {
    idx_ = (idx_ + 1) % set_.ranges.size();
    cur_ = set_.ranges[idx_].start;
  } else {
    cur_ = cur_->next();
  }
  if (!start_) {
    start_ = cur_;
  } else if (*cur_ == *start_) {
    return false;
  }
  return true;
}

std::optional<std::pair<net::IpAddress, const Range*>> RangeIter::next() {
  while (advance()) {
    const Range& r = set_.ranges[idx_];
    if (allocatable(r, *cur_)) return std::make_pair(*cur_, &r);
  }
  return std::nullopt;
}

namespace {

constexpr int kProbesBeforeListing = 16;

cni::IpConfig ip_config(const Range& r, const net::IpAddress& a) {
  cni::IpConfig c;
  c.address = net::IpPrefix(a, r.subnet.length());
  c.gateway = r.gateway;
  return c;
}

std::string set_name(std::size_t index, const RangeSet& set) {
  return "range set " + std::to_string(index) + " [" + set.to_string() + "]";
}

// Records the cursor after a fresh reservation; if that fails, the reservation goes too, so a
// failed allocate() leaves no lease behind.
void set_cursor_or_release(Store& store, std::size_t index, const net::IpAddress& ip) {
  util::UndoStack undo;
  undo.push("release " + ip.to_string(), [&store, ip] { store.release(ip); });
  store.set_last_reserved(index, ip);
  undo.commit();
}

}  // namespace

Allocation allocate(const RangeSet& set, std::size_t index, Store& store, const Owner& owner,
                    const std::optional<net::IpAddress>& requested) {
  // A repeated ADD (runtime retry, restart after an unclean stop) gets the lease it already holds.
  for (const auto& held : store.find_by_owner(owner)) {
    const Range* r = set.range_for(held);
    if (r == nullptr) continue;
    if (requested && *requested != held) {
      throw Error(owner.container_id + "/" + owner.ifname + " already holds " + held.to_string() + " in " +
                  set_name(index, set) + "; requested " + requested->to_string());
    }
    return {ip_config(*r, held), false};
  }
  if (requested) {
    const Range* r = set.range_for(*requested);
    if (r == nullptr || !allocatable(*r, *requested))
      throw Error("requested IP " + requested->to_string() + " cannot be allocated from " + set_name(index, set),
                  cni::kInvalidConfig);
    if (!store.reserve(*requested, owner))
      throw Error("requested IP " + requested->to_string() + " is already allocated in " + set_name(index, set));
    set_cursor_or_release(store, index, *requested);
    return {ip_config(*r, *requested), true};
  }
  RangeIter it(set, store.last_reserved(index));
  int taken_in_a_row = 0;
  std::optional<std::set<net::IpAddress>> held;
  while (auto cand = it.next()) {
    if (held && held->count(cand->first)) continue;
    if (store.reserve(cand->first, owner)) {
      set_cursor_or_release(store, index, cand->first);
      return {ip_config(*cand->second, cand->first), true};
    }
    if (!held && ++taken_in_a_row == kProbesBeforeListing) held = store.held_addresses();
  }
  throw Error("no IP addresses available in " + set_name(index, set));
}

std::vector<Allocation> allocate_all(const Plan& plan, Store& store, const Owner& owner) {
  util::UndoStack undo;
  std::vector<Allocation> out;
  for (std::size_t i = 0; i < plan.range_sets.size(); ++i) {
    const std::optional<net::IpAddress> req = i < plan.requested.size() ? plan.requested[i] : std::nullopt;
    Allocation a = allocate(plan.range_sets[i], i, store, owner, req);
    if (a.fresh) {
      const net::IpAddress ip = a.ip.address.address();
      undo.push("release " + ip.to_string(), [&store, ip] { store.release(ip); });
    }
    out.push_back(a);
  }
  undo.commit();
  return out;
}

namespace {

// |[a, b]| as 128-bit (a <= b, same family).
unsigned __int128 span(const net::IpAddress& a, const net::IpAddress& b) {
  unsigned __int128 x = 0, y = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    x = (x << 8) | a.bytes()[i];
    y = (y << 8) | b.bytes()[i];
  }
  return y - x + 1;
}

}  // namespace

bool range_set_has_free(const RangeSet& set, const std::set<net::IpAddress>& held) {
  for (const auto& r : set.ranges) {
    unsigned __int128 free = span(r.start, r.end);
    const net::IpAddress specials[] = {r.gateway, r.subnet.first(), r.subnet.last()};
    for (std::size_t i = 0; i < 3; ++i) {
      bool dup = false;
      for (std::size_t j = 0; j < i; ++j) dup = dup || specials[j] == specials[i];
      if (!dup && !allocatable(r, specials[i]) && r.contains(specials[i])) --free;
    }
    for (auto it = held.lower_bound(r.start); it != held.end() && *it <= r.end; ++it) {
      if (allocatable(r, *it)) --free;
    }
    if (free > 0) return true;
  }
  return false;
}

}  // namespace tether::ipam
