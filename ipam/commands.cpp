// The five verbs of tether-ipam (ipam.hpp). Each validates first, then holds the store lock only
// around its store mutation.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <utility>

#include "ipam/allocator.hpp"
#include "ipam/config.hpp"
#include "ipam/file_store.hpp"
#include "ipam/ipam.hpp"
#include "lib/cni/env.hpp"
#include "lib/cni/error.hpp"
#include "lib/log/log.hpp"
#include "lib/sys/sys_error.hpp"
#include "lib/util/error_list.hpp"

namespace tether::ipam {
namespace {

Owner owner_of(const cni::Request& req) {
  // The ID and ifname end up in file content and index names: enforce the spec rules even when
  // called in-process (the binary's skel already checked them).
  if (!cni::valid_name(req.env.container_id))
    cni::fail(cni::kInvalidEnv, "CNI_CONTAINERID '" + req.env.container_id + "' has invalid characters");
  if (!cni::valid_ifname(req.env.ifname)) cni::fail(cni::kInvalidEnv, "CNI_IFNAME '" + req.env.ifname + "' is invalid");
  return {req.env.container_id, req.env.ifname};
}

std::string who(const Owner& o) { return o.container_id + "/" + o.ifname; }

// Leases of (id, ifname), falling back to legacy files holding only the ID.
std::vector<net::IpAddress> held_by(Store& store, const Owner& owner) {
  auto ips = store.find_by_owner(owner);
  if (ips.empty()) ips = store.find_by_owner({owner.container_id, ""});
  return ips;
}

// STATUS: can ADD create and write lease files here? Checks the network dir, else the closest
// existing ancestor (ADD would create the rest).
void check_store_writable(const StoreLocation& loc) {
  std::string path = loc.data_dir + "/" + loc.network;
  while (::access(path.c_str(), F_OK) != 0) {
    const auto slash = path.find_last_of('/');
    std::string parent = slash == std::string::npos ? std::string(".")
                                                    : path.substr(0, std::max<std::size_t>(slash, 1));
    if (parent == path) break;
    path = std::move(parent);
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    throw Error("store path '" + path + "' is not a directory", cni::kNotAvailable);
  if (::access(path.c_str(), W_OK | X_OK) != 0)
    throw sys::SysError("store directory '" + path + "' is not writable", errno, cni::kNotAvailable);
}

}  // namespace

PreparedAdd prepare_add(const cni::Request& req) {
  PreparedAdd p{build_plan(req.conf, req.env.args), owner_of(req), {}};
  if (!p.plan.resolv_conf.empty()) p.base.dns = load_resolv_conf(p.plan.resolv_conf);
  p.base.routes = p.plan.routes;
  return p;
}

cni::Result run_add(const PreparedAdd& prepared) {
  std::vector<Allocation> allocs;
  {
    FileStore store(prepared.plan.store, FileStore::Open::kCreate);
    allocs = allocate_all(prepared.plan, store, prepared.owner);
    store.finish();
  }
  cni::Result result = prepared.base;
  for (const auto& a : allocs) {
    if (!a.fresh) log::info("returning existing lease " + a.ip.address.to_string() + " of " + who(prepared.owner));
    result.ips.push_back(a.ip);
  }
  return result;
}

cni::Result cmd_add(const cni::Request& req) { return run_add(prepare_add(req)); }

void cmd_del(const cni::Request& req) {
  const StoreLocation loc = store_location(req.conf);
  const Owner owner = owner_of(req);
  FileStore store(loc, FileStore::Open::kIfExists);
  util::ErrorList errors;
  for (const auto& ip : held_by(store, owner)) errors.run("release " + ip.to_string(), [&] { store.release(ip); });
  errors.run("finish", [&] { store.finish(); });
  errors.throw_if_any();
}

void cmd_check(const cni::Request& req) {
  const Plan plan = build_plan(req.conf, req.env.args);
  const Owner owner = owner_of(req);
  std::vector<net::IpAddress> held;
  {
    FileStore store(plan.store, FileStore::Open::kIfExists);
    held = held_by(store, owner);
  }
  for (std::size_t i = 0; i < plan.range_sets.size(); ++i) {
    bool found = false;
    for (const auto& ip : held) found = found || plan.range_sets[i].contains(ip);
    if (!found)
      throw Error(who(owner) + " holds no lease in range set " + std::to_string(i) + " [" +
                  plan.range_sets[i].to_string() + "] of network '" + plan.store.network + "'");
  }
  if (!req.conf.prev_result) return;
  std::set<net::IpAddress> in_prev;
  for (const auto& c : req.conf.prev_result->ips) in_prev.insert(c.address.address());
  for (const auto& ip : in_prev) {
    bool ours = false;
    for (const auto& set : plan.range_sets) ours = ours || set.contains(ip);
    bool is_held = false;
    for (const auto& h : held) is_held = is_held || h == ip;
    if (ours && !is_held) throw Error("prevResult address " + ip.to_string() + " is not leased to " + who(owner));
  }
  for (const auto& ip : held) {
    if (!in_prev.count(ip)) throw Error(who(owner) + " holds " + ip.to_string() + ", which prevResult lacks");
  }
}

void cmd_gc(const cni::Request& req) {
  const StoreLocation loc = store_location(req.conf);
  std::set<std::pair<std::string, std::string>> valid;
  std::set<std::string> valid_ids;
  for (const auto& a : req.conf.valid_attachments) {
    valid.insert({a.container_id, a.ifname});
    valid_ids.insert(a.container_id);
  }
  FileStore store(loc, FileStore::Open::kIfExists);
  util::ErrorList errors;
  for (const auto& lease : store.list()) {
    const bool keep = lease.owner &&
                      (lease.owner->ifname.empty() ? valid_ids.count(lease.owner->container_id) > 0
                                                   : valid.count({lease.owner->container_id, lease.owner->ifname}) > 0);
    if (keep) continue;
    log::info("GC: releasing " + lease.ip.to_string() +
              (lease.owner ? " of " + who(*lease.owner) : std::string(" (unreadable lease file)")));
    errors.run("release " + lease.ip.to_string(), [&] { store.release(lease.ip); });
  }
  errors.run("finish", [&] { store.finish(); });
  errors.throw_if_any();
}

void cmd_status(const cni::Request& req) {
  const Plan plan = build_plan(req.conf, "");
  std::set<net::IpAddress> held;
  try {
    check_store_writable(plan.store);
    held = FileStore::held_addresses_unlocked(plan.store);
  } catch (const std::exception& e) {
    cni::fail(cni::kNotAvailable, std::string("IPAM store unusable: ") + e.what());
  }
  // ADD needs one address from every range set.
  for (std::size_t i = 0; i < plan.range_sets.size(); ++i) {
    if (!range_set_has_free(plan.range_sets[i], held))
      cni::fail(cni::kNotAvailable, "no IP addresses available in range set " + std::to_string(i) + " [" +
                                        plan.range_sets[i].to_string() + "]");
  }
}

cni::PluginFuncs plugin_funcs() {
  cni::PluginFuncs f;
  f.add = cmd_add;
  f.del = cmd_del;
  f.check = cmd_check;
  f.gc = cmd_gc;
  f.status = cmd_status;
  f.about = "CNI tether-ipam plugin v" TETHER_VERSION " (host-local compatible)";
  return f;
}

}  // namespace tether::ipam
