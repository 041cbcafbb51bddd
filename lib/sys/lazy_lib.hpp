#pragma once
// Shared libraries loaded on first use instead of at process start.
//
// Why: every exec of `tether` would otherwise map and relocate the netfilter libraries before
// main(), although only verbs that touch firewall rules need them: VERSION, STATUS, an ADD/CHECK
// without ipMasq or port mappings and a DEL on a host without our rules never do. So the binary
// does not link them (no DT_NEEDED); each wrapper directory defines the functions it calls with
// the library header's exact prototypes (TETHER_LAZY_FWD: a mismatch does not compile), and they
// forward to the real ones, resolved with dlopen/dlsym on the first call.
//
// Where from: an install's bundled copies in <dir of the executable>/tether.libs first, opened by
// absolute path, else the system's (the loader's usual search). Not through an $ORIGIN DT_RPATH:
// the loader would then search it for every library at every start, glibc included. A bundled
// library's own dependencies are opened from the bundle first, so the loader finds them loaded.
//
// A library or symbol that cannot be loaded fails the call: tether::Error naming the library and
// dlerror(), which the CNI boundary reports, the same outcome the dynamic loader's refusal to
// start would have been, minus the verbs that never needed it.

namespace tether::sys {

struct LazyLib {
  const char* soname;
  const char* const* deps = nullptr;  // DT_NEEDED sonames other than glibc's, null-terminated
  void* handle = nullptr;             // set on first use
};

// The address of `symbol` in `lib`, loading the library (and its deps) first if needed.
void* resolve_lazy(LazyLib& lib, const char* symbol);

}  // namespace tether::sys

// Defines `name` with the C header's signature, resolving the real function once.
#define TETHER_LAZY_FWD(lib, ret, name, params, args)                                                      \
  extern "C" ret name params {                                                                             \
    static const auto real = reinterpret_cast<decltype(&::name)>(::tether::sys::resolve_lazy(lib, #name)); \
    return real args;                                                                                      \
  }
