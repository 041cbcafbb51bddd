#include "lib/sys/lazy_lib.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <string>

#include "lib/util/error.hpp"

namespace tether::sys {
namespace {

// "<dir of the executable>/tether.libs/" when that directory exists, else "".
const std::string& bundle_dir() {
  static const std::string dir = [] {
    char exe[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe);
    if (n <= 0 || n == sizeof exe) return std::string();
    std::string d(exe, static_cast<std::size_t>(n));
    d = d.substr(0, d.rfind('/') + 1) + "tether.libs/";
    return ::access(d.c_str(), X_OK) == 0 ? d : std::string();
  }();
  return dir;
}

void* open_lib(const char* soname) {
  const std::string& dir = bundle_dir();
  if (!dir.empty()) {
    const std::string path = dir + soname;
    if (::access(path.c_str(), R_OK) == 0) return ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  }
  return ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
}

}  // namespace

void* resolve_lazy(LazyLib& lib, const char* symbol) {
  // dlopen is thread-safe and idempotent: a racing second open only bumps the refcount.
  if (lib.handle == nullptr) {
    for (const char* const* dep = lib.deps; dep && *dep; ++dep) open_lib(*dep);  // a miss shows as lib's failure
    lib.handle = open_lib(lib.soname);
    if (lib.handle == nullptr) throw Error(std::string("cannot load ") + lib.soname + ": " + ::dlerror());
  }
  void* fn = ::dlsym(lib.handle, symbol);
  if (fn == nullptr) throw Error(std::string("cannot find ") + symbol + " in " + lib.soname + ": " + ::dlerror());
  return fn;
}

}  // namespace tether::sys
