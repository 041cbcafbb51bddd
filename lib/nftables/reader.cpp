#include "lib/nftables/reader.hpp"

#include <cstdio>  // libnftnl headers use FILE without including it

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cerrno>

#include "lib/nftables/expr.hpp"
#include "lib/nftables/nft_error.hpp"
#include "lib/nftables/nftnl_build.hpp"
#include "lib/nftables/socket.hpp"
#include "lib/nftables/udata.hpp"
#include "lib/nftables/xt_compat.hpp"

namespace tether::nftables {
namespace {

constexpr int kDumpAttempts = 5;

std::string where(Family f, const std::string& table) { return std::string(family_name(f)) + " " + table; }

Bytes bytes_of(const void* p, std::uint32_t len) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  return b ? Bytes(b, b + len) : Bytes{};
}

[[noreturn]] void parse_failed(const std::string& what) {
  throw NftError("nftables: parse " + what, errno ? errno : EINVAL);
}

std::optional<Verdict> verdict_from(std::uint32_t code, const char* chain) {
  switch (static_cast<int>(code)) {
    case NF_ACCEPT: return Verdict{Verdict::Kind::Accept, {}};
    case NF_DROP: return Verdict{Verdict::Kind::Drop, {}};
    case NFT_RETURN: return Verdict{Verdict::Kind::Return, {}};
    case NFT_JUMP: return Verdict{Verdict::Kind::Jump, chain ? chain : ""};
    case NFT_GOTO: return Verdict{Verdict::Kind::Goto, chain ? chain : ""};
    default: return std::nullopt;
  }
}

// A single GET that may answer ENOENT: nullopt then.
template <class F>
bool get_or_absent(Socket& sock, const nlmsghdr* nlh, const std::string& what, F&& on_data) {
  bool absent = false;
  sock.request(nlh, what, on_data, &absent);
  return !absent;
}

template <class F>
void dump_consistent(Socket& sock, const std::string& what, const std::function<nlmsghdr*(char*)>& build,
                     F&& reset_and_collect) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (int attempt = 1;; ++attempt) {
    reset_and_collect(nullptr);
    nlmsghdr* nlh = build(buf.data());
    bool absent = false;
    const bool complete = sock.dump(
        nlh, what, [&](const nlmsghdr* m) { reset_and_collect(m); }, &absent);
    if (absent) return;  // table or set gone: nothing
    if (complete) return;
    if (attempt == kDumpAttempts) throw NftError(what + ": the ruleset kept changing during the dump", EINTR, 11);
  }
}

std::span<const std::uint8_t> attr_view(nftnl_set_elem* e, std::uint16_t attr) {
  if (!nftnl_set_elem_is_set(e, attr)) return {};
  std::uint32_t len = 0;
  const auto* p = static_cast<const std::uint8_t*>(nftnl_set_elem_get(e, attr, &len));
  return p ? std::span<const std::uint8_t>(p, len) : std::span<const std::uint8_t>();
}

// Every element of one reply, as views (no copies: a DEL reads thousands and keeps a handful).
template <class F>
void visit_elements(const nlmsghdr* m, const std::string& what, F&& on_element) {
  detail::SetPtr set = detail::new_set();
  if (nftnl_set_elems_nlmsg_parse(m, set.get()) < 0) parse_failed(what);
  struct IterFree {
    void operator()(nftnl_set_elems_iter* i) const noexcept { nftnl_set_elems_iter_destroy(i); }
  };
  std::unique_ptr<nftnl_set_elems_iter, IterFree> it(nftnl_set_elems_iter_create(set.get()));
  if (!it) throw NftError("libnftnl: iterate elements", ENOMEM);
  // iter_next returns the current element and then advances: starting with iter_cur would
  // return the first element twice.
  while (nftnl_set_elem* e = nftnl_set_elems_iter_next(it.get())) on_element(e);
}

ElementView element_view(nftnl_set_elem* e) {
  ElementView v;
  v.key = attr_view(e, NFTNL_SET_ELEM_KEY);
  v.key_end = attr_view(e, NFTNL_SET_ELEM_KEY_END);
  v.data = attr_view(e, NFTNL_SET_ELEM_DATA);
  v.comment = comment_view(attr_view(e, NFTNL_SET_ELEM_USERDATA)).value_or(std::string_view());
  return v;
}

ElementInfo element_info(nftnl_set_elem* e) {
  const ElementView v = element_view(e);
  ElementInfo out;
  out.key.assign(v.key.begin(), v.key.end());
  out.key_end.assign(v.key_end.begin(), v.key_end.end());
  out.data.assign(v.data.begin(), v.data.end());
  out.comment = v.comment;
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
    out.verdict = verdict_from(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT),
                               nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)
                                   ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN)
                                   : nullptr);
  return out;
}

void collect_elements(const nlmsghdr* m, std::vector<ElementInfo>& out, const std::string& what) {
  visit_elements(m, what, [&](nftnl_set_elem* e) { out.push_back(element_info(e)); });
}

nlmsghdr* element_dump_request(char* buf, Socket& sock, Family f, const std::string& table, const std::string& set) {
  detail::SetPtr s = detail::new_set();
  if (nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str()) < 0 ||
      nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.c_str()) < 0)
    throw NftError("libnftnl: set name '" + set + "'", EINVAL);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, static_cast<std::uint16_t>(f), NLM_F_DUMP,
                                        sock.next_seq());
  nftnl_set_elems_nlmsg_build_payload(nlh, s.get());
  return nlh;
}

Chain chain_info(const nftnl_chain* c, Family f) {
  Chain out;
  out.family = f;
  out.table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
  out.name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
  out.handle = nftnl_chain_is_set(c, NFTNL_CHAIN_HANDLE) ? nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE) : 0;
  out.use = nftnl_chain_is_set(c, NFTNL_CHAIN_USE) ? nftnl_chain_get_u32(c, NFTNL_CHAIN_USE) : 0;
  if (nftnl_chain_is_set(c, NFTNL_CHAIN_USERDATA)) {
    std::uint32_t len = 0;
    const void* ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);
    out.comment = comment_of(bytes_of(ud, len)).value_or("");
  }
  if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
    BaseChain b;
    b.priority = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
    b.type = nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "";
    b.policy_accept = !nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) ||
                      nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT;
    switch (nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM)) {
      case NF_INET_PRE_ROUTING: b.hook = Hook::Prerouting; break;
      case NF_INET_LOCAL_IN: b.hook = Hook::Input; break;
      case NF_INET_FORWARD: b.hook = Hook::Forward; break;
      case NF_INET_LOCAL_OUT: b.hook = Hook::Output; break;
      default: b.hook = Hook::Postrouting; break;
    }
    out.base = b;
  }
  return out;
}

}  // namespace

std::optional<TableInfo> get_table(Socket& sock, Family f, const std::string& name) {
  char buf[MNL_SOCKET_BUFFER_SIZE] = {};  // libmnl 1.0.4 leaves attribute padding unwritten
  auto obj = detail::table_object(Table{f, name, {}}, false);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, static_cast<std::uint16_t>(f), NLM_F_ACK,
                                        sock.next_seq());
  nftnl_table_nlmsg_build_payload(nlh, obj.get());
  const std::string what = "nftables: get table " + where(f, name);
  std::optional<TableInfo> out;
  if (!get_or_absent(sock, nlh, what, [&](const nlmsghdr* m) {
        detail::TablePtr t = detail::new_table();
        if (nftnl_table_nlmsg_parse(m, t.get()) < 0) parse_failed(what);
        TableInfo info;
        info.use = nftnl_table_get_u32(t.get(), NFTNL_TABLE_USE);
        if (nftnl_table_is_set(t.get(), NFTNL_TABLE_USERDATA)) {
          std::uint32_t len = 0;
          const void* ud = nftnl_table_get_data(t.get(), NFTNL_TABLE_USERDATA, &len);
          info.comment = comment_of(bytes_of(ud, len)).value_or("");
        }
        out = info;
      }))
    return std::nullopt;
  return out;
}

bool TableNames::has(Family f, std::string_view name) const {
  for (const auto& [family, n] : names)
    if (family == f && n == name) return true;
  return false;
}

TableNames list_tables(Socket& sock) {
  TableNames out;
  const std::string what = "nftables: list tables";
  dump_consistent(
      sock, what,
      [&](char* buf) {
        return nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_UNSPEC, NLM_F_DUMP, sock.next_seq());
      },
      [&](const nlmsghdr* m) {
        if (!m) return out.names.clear();
        detail::TablePtr t = detail::new_table();
        if (nftnl_table_nlmsg_parse(m, t.get()) < 0) parse_failed(what);
        const char* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME);
        out.names.emplace_back(static_cast<Family>(nftnl_table_get_u32(t.get(), NFTNL_TABLE_FAMILY)), name ? name : "");
      });
  return out;
}

std::optional<Chain> get_chain(Socket& sock, Family f, const std::string& table, const std::string& name) {
  char buf[MNL_SOCKET_BUFFER_SIZE] = {};  // libmnl 1.0.4 leaves attribute padding unwritten
  Chain ref;
  ref.family = f;
  ref.table = table;
  ref.name = name;
  auto obj = detail::chain_object(ref, false);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, static_cast<std::uint16_t>(f), NLM_F_ACK,
                                        sock.next_seq());
  nftnl_chain_nlmsg_build_payload(nlh, obj.get());
  const std::string what = "nftables: get chain " + where(f, table) + " " + name;
  std::optional<Chain> out;
  if (!get_or_absent(sock, nlh, what, [&](const nlmsghdr* m) {
        detail::ChainPtr c = detail::new_chain();
        if (nftnl_chain_nlmsg_parse(m, c.get()) < 0) parse_failed(what);
        out = chain_info(c.get(), f);
      }))
    return std::nullopt;
  return out;
}

std::vector<Chain> list_chains(Socket& sock, Family f, const std::string& table) {
  std::vector<Chain> out;
  const std::string what = "nftables: list chains of " + where(f, table);
  dump_consistent(
      sock, what,
      [&](char* buf) {
        return nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, static_cast<std::uint16_t>(f), NLM_F_DUMP, sock.next_seq());
      },
      [&](const nlmsghdr* m) {
        if (!m) return out.clear();
        detail::ChainPtr c = detail::new_chain();
        if (nftnl_chain_nlmsg_parse(m, c.get()) < 0) parse_failed(what);
        Chain info = chain_info(c.get(), f);
        if (info.table == table) out.push_back(std::move(info));
      });
  return out;
}

std::vector<RuleInfo> list_rules(Socket& sock, Family f, const std::string& table, const std::string& chain) {
  std::vector<RuleInfo> out;
  const std::string what = "nftables: list rules of " + where(f, table) + " " + chain;
  dump_consistent(
      sock, what,
      [&](char* buf) {
        // The kernel filters the dump on table and chain.
        auto ref = detail::rule_ref(f, table, chain, 0);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, static_cast<std::uint16_t>(f), NLM_F_DUMP,
                                              sock.next_seq());
        nftnl_rule_nlmsg_build_payload(nlh, ref.get());
        return nlh;
      },
      [&](const nlmsghdr* m) {
        if (!m) return out.clear();
        detail::RulePtr r = detail::new_rule();
        if (nftnl_rule_nlmsg_parse(m, r.get()) < 0) parse_failed(what);
        if (std::string(nftnl_rule_get_str(r.get(), NFTNL_RULE_TABLE)) != table ||
            std::string(nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN)) != chain)
          return;
        RuleInfo info;
        info.handle = nftnl_rule_get_u64(r.get(), NFTNL_RULE_HANDLE);
        info.comment = comment_of(detail::udata_of_rule(r.get())).value_or("");
        const std::vector<Expr> exprs = detail::exprs_of(r.get());
        for (const Expr& e : exprs)
          if (info.comment.empty() && e.kind == Expr::Kind::XtMatch)
            info.comment = xt::comment_of(XtMatch{e.name, e.key, e.data}).value_or("");
        if (!exprs.empty() && exprs.back().kind == Expr::Kind::Immediate && exprs.back().verdict &&
            exprs.back().dreg == NFT_REG_VERDICT)
          info.verdict = verdict_from(exprs.back().key, exprs.back().name.c_str());
        info.statements = decompile(f, exprs);
        out.push_back(std::move(info));
      });
  return out;
}

std::optional<ElementInfo> get_element(Socket& sock, Family f, const std::string& table, const std::string& set,
                                       const Bytes& key) {
  Element ref;
  ref.family = f;
  ref.table = table;
  ref.set = set;
  ref.key = key;
  return get_element(sock, ref);
}

std::optional<ElementInfo> get_element(Socket& sock, const Element& ref) {
  char buf[MNL_SOCKET_BUFFER_SIZE] = {};  // libmnl 1.0.4 leaves attribute padding unwritten
  auto obj = detail::element_object(ref, false);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, static_cast<std::uint16_t>(ref.family), NLM_F_ACK,
                                        sock.next_seq());
  nftnl_set_elems_nlmsg_build_payload(nlh, obj.get());
  const std::string what = "nftables: get element of " + where(ref.family, ref.table) + " @" + ref.set;
  std::vector<ElementInfo> found;
  if (!get_or_absent(sock, nlh, what, [&](const nlmsghdr* m) { collect_elements(m, found, what); }))
    return std::nullopt;
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<ElementInfo> list_elements(Socket& sock, Family f, const std::string& table, const std::string& set) {
  std::vector<ElementInfo> out;
  const std::string what = "nftables: list elements of " + where(f, table) + " @" + set;
  dump_consistent(
      sock, what, [&](char* buf) { return element_dump_request(buf, sock, f, table, set); },
      [&](const nlmsghdr* m) {
        if (!m) return out.clear();
        collect_elements(m, out, what);
      });
  return out;
}

void for_each_element(Socket& sock, Family f, const std::string& table, const std::string& set,
                      const std::function<void(const ElementView&)>& on_element,
                      const std::function<void()>& on_restart) {
  const std::string what = "nftables: list elements of " + where(f, table) + " @" + set;
  bool started = false;
  dump_consistent(
      sock, what, [&](char* buf) { return element_dump_request(buf, sock, f, table, set); },
      [&](const nlmsghdr* m) {
        if (!m) {
          if (started) on_restart();
          started = true;
          return;
        }
        visit_elements(m, what, [&](nftnl_set_elem* e) { on_element(element_view(e)); });
      });
}

bool has_set(Socket& sock, Family f, const std::string& table, const std::string& set) {
  char buf[MNL_SOCKET_BUFFER_SIZE] = {};  // libmnl 1.0.4 leaves attribute padding unwritten
  detail::SetPtr s = detail::new_set();
  if (nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str()) < 0 ||
      nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.c_str()) < 0)
    throw NftError("libnftnl: set name", EINVAL);
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, static_cast<std::uint16_t>(f), NLM_F_ACK, sock.next_seq());
  nftnl_set_nlmsg_build_payload(nlh, s.get());
  return get_or_absent(sock, nlh, "nftables: get set " + where(f, table) + " @" + set, [](const nlmsghdr*) {});
}

bool kernel_has_nftables() {
  try {
    Socket sock = Socket::open();
    sock.genid();
    return true;
  } catch (const NftError& e) {
    if (e.errno_value() == EPERM || e.errno_value() == EACCES) throw;
    return false;  // means_no_nftables(), or ENOENT (no nf_tables)
  }
}

}  // namespace tether::nftables
