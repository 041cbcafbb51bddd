#pragma once
// Delegation (spec §Delegated plugins): run plugin `type` found on CNI_PATH with the same stdin
// and environment, changing only CNI_COMMAND. The child's stderr goes to ours; a failing child's
// error JSON is rethrown with its code and message.
#include <string>

#include "lib/cni/skel.hpp"

namespace tether::cni {

// Searches each CNI_PATH directory for an executable `type`; `type` must not contain '/'.
// Throws code 7 naming ipam.type when not found.
std::string find_plugin(const std::string& type, const std::string& cni_path);

Result delegate_add(const std::string& type, const Request& req);
void delegate_del(const std::string& type, const Request& req);
void delegate_check(const std::string& type, const Request& req);
void delegate_gc(const std::string& type, const Request& req);
void delegate_status(const std::string& type, const Request& req);

}  // namespace tether::cni
