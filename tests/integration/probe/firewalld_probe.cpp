// A fresh process for the lazy-loading tests (firewalld_connect_test.cpp): once a test has
// connected, libsystemd stays mapped in the test binary for good, so "not loaded" can only be
// judged in a process that never connected before. Links lib/firewalld as the plugin would.
//
// Usage: tether_firewalld_probe
// Runs Client::connect_if_running() against $DBUS_SYSTEM_BUS_ADDRESS and prints one line:
//   client=<0|1> libsystemd_before=<0|1> libsystemd_after=<0|1> elapsed_us=<n>
// Exit status 0, or 1 with the error on stderr.
#include <chrono>
#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/firewalld/client.hpp"

namespace {
bool libsystemd_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream ss;
  ss << maps.rdbuf();
  return ss.str().find("libsystemd.so") != std::string::npos;
}
}  // namespace

int main() {
  try {
    const bool before = libsystemd_mapped();
    const auto t0 = std::chrono::steady_clock::now();
    const auto client = tether::firewalld::Client::connect_if_running();
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
    std::printf("client=%d libsystemd_before=%d libsystemd_after=%d elapsed_us=%lld\n", client ? 1 : 0, before ? 1 : 0,
                libsystemd_mapped() ? 1 : 0, static_cast<long long>(us));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tether_firewalld_probe: %s\n", e.what());
    return 1;
  }
}
