#include "lib/nftables/xt_compat.hpp"

#include <linux/netfilter/xt_comment.h>
#include <linux/netfilter/xt_conntrack.h>

#include <cstring>

#include "lib/util/error.hpp"

namespace tether::nftables::xt {

static_assert(kCtInvalid == XT_CONNTRACK_STATE_INVALID && kCtEstablished == XT_CONNTRACK_STATE_BIT(IP_CT_ESTABLISHED) &&
              kCtRelated == XT_CONNTRACK_STATE_BIT(IP_CT_RELATED) && kCtNew == XT_CONNTRACK_STATE_BIT(IP_CT_NEW) &&
              kCtSnat == XT_CONNTRACK_STATE_SNAT && kCtDnat == XT_CONNTRACK_STATE_DNAT &&
              kCtUntracked == XT_CONNTRACK_STATE_UNTRACKED);

namespace {

constexpr const char* kConntrack = "conntrack";
constexpr std::uint32_t kConntrackRev = 3;
constexpr const char* kComment = "comment";
constexpr std::uint16_t kAllStates = kCtInvalid | kCtEstablished | kCtRelated | kCtNew | kCtSnat | kCtDnat |
                                     kCtUntracked;

// x_tables' XT_ALIGN (8 bytes on every ABI tether runs on): iptables sends a match's struct padded
// to it (xt_conntrack_mtinfo3: 164 -> 168 bytes) and the kernel dumps it back so.
constexpr std::size_t xt_align(std::size_t n) { return (n + 7) & ~std::size_t{7}; }

template <class T>
std::vector<std::uint8_t> bytes_of(const T& v) {
  std::vector<std::uint8_t> b(xt_align(sizeof v), 0);
  std::memcpy(b.data(), &v, sizeof v);
  return b;
}

}  // namespace

XtMatch conntrack_state(std::uint16_t state_mask) {
  if (state_mask == 0 || (state_mask & ~kAllStates) != 0)
    throw Error("nftables: conntrack state mask " + std::to_string(state_mask) + " has no or unknown bits");
  // What libxt_conntrack's --ctstate fills in (rev 3): the state flag and mask, nothing else.
  xt_conntrack_mtinfo3 info{};
  info.match_flags = XT_CONNTRACK_STATE;
  info.state_mask = state_mask;
  return XtMatch{kConntrack, kConntrackRev, bytes_of(info)};
}

XtMatch comment(std::string_view text) {
  xt_comment_info info{};  // always the full 256 bytes: the kernel rejects a short payload
  std::memcpy(info.comment, text.data(), std::min(text.size(), sizeof(info.comment) - 1));
  return XtMatch{kComment, 0, bytes_of(info)};
}

std::optional<std::uint16_t> conntrack_state_of(const XtMatch& m) {
  if (m.name != kConntrack || m.rev != kConntrackRev || m.info.size() != xt_align(sizeof(xt_conntrack_mtinfo3)))
    return std::nullopt;
  xt_conntrack_mtinfo3 info;
  std::memcpy(&info, m.info.data(), sizeof info);
  if (info.state_mask == 0 || (info.state_mask & ~kAllStates) != 0) return std::nullopt;
  if (conntrack_state(info.state_mask).info != m.info) return std::nullopt;  // more than a state test
  return info.state_mask;
}

std::optional<std::string> comment_of(const XtMatch& m) {
  if (m.name != kComment || m.rev != 0 || m.info.size() != xt_align(sizeof(xt_comment_info))) return std::nullopt;
  const char* p = reinterpret_cast<const char*>(m.info.data());
  return std::string(p, strnlen(p, m.info.size()));
}

std::optional<std::string> comment_of(const std::vector<Statement>& rule) {
  for (const auto& s : rule)
    if (const auto* x = std::get_if<XtMatch>(&s))
      if (auto c = comment_of(*x)) return c;
  return std::nullopt;
}

std::string describe(const XtMatch& m) {
  if (const auto states = conntrack_state_of(m)) {
    // libxt_conntrack's order
    static constexpr std::pair<std::uint16_t, const char*> kNames[] =
        {{kCtInvalid, "INVALID"},     {kCtNew, "NEW"},   {kCtRelated, "RELATED"}, {kCtEstablished, "ESTABLISHED"},
         {kCtUntracked, "UNTRACKED"}, {kCtSnat, "SNAT"}, {kCtDnat, "DNAT"}};
    std::string list;
    for (const auto& [bit, name] : kNames)
      if (*states & bit) list += (list.empty() ? "" : ",") + std::string(name);
    return "-m conntrack --ctstate " + list;
  }
  if (const auto text = comment_of(m)) return "-m comment --comment \"" + *text + "\"";
  return "-m " + m.name + " (rev " + std::to_string(m.rev) + ")";
}

}  // namespace tether::nftables::xt
