// libsystemd's sd-bus, loaded on first use (lib/sys/lazy_lib.hpp says why). Most plugin calls
// never talk to D-Bus, and a host without a system bus never loads it at all (Bus::connect stats
// the socket first). The system's copy (CMake bundles none): it belongs to the host's systemd.
//
// Only non-variadic functions: a forwarder cannot pass `...` on (sd_bus_call_method,
// sd_bus_message_append/read, sd_bus_match_signal are built from these instead).
#include <systemd/sd-bus.h>

#include "lib/sys/lazy_lib.hpp"

namespace {
tether::sys::LazyLib g_systemd{"libsystemd.so.0"};
}  // namespace

// Connection
TETHER_LAZY_FWD(g_systemd, int, sd_bus_new, (sd_bus * *ret), (ret))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_set_address, (sd_bus * bus, const char* address), (bus, address))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_set_bus_client, (sd_bus * bus, int b), (bus, b))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_set_method_call_timeout, (sd_bus * bus, uint64_t usec), (bus, usec))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_start, (sd_bus * bus), (bus))
TETHER_LAZY_FWD(g_systemd, sd_bus*, sd_bus_close_unref, (sd_bus * bus), (bus))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_is_open, (sd_bus * bus), (bus))
// Calls, signals, the event loop
TETHER_LAZY_FWD(g_systemd, int, sd_bus_call,
                (sd_bus * bus, sd_bus_message* m, uint64_t usec, sd_bus_error* ret_error, sd_bus_message** reply),
                (bus, m, usec, ret_error, reply))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_add_match,
                (sd_bus * bus, sd_bus_slot** slot, const char* match, sd_bus_message_handler_t callback,
                 void* userdata),
                (bus, slot, match, callback, userdata))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_process, (sd_bus * bus, sd_bus_message** r), (bus, r))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_wait, (sd_bus * bus, uint64_t timeout_usec), (bus, timeout_usec))
TETHER_LAZY_FWD(g_systemd, void, sd_bus_error_free, (sd_bus_error * e), (e))
// Messages
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_new_method_call,
                (sd_bus * bus, sd_bus_message** m, const char* destination, const char* path, const char* interface,
                 const char* member),
                (bus, m, destination, path, interface, member))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_set_auto_start, (sd_bus_message * m, int b), (m, b))
TETHER_LAZY_FWD(g_systemd, sd_bus_message*, sd_bus_message_ref, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, sd_bus_message*, sd_bus_message_unref, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_append_basic, (sd_bus_message * m, char type, const void* p),
                (m, type, p))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_read_basic, (sd_bus_message * m, char type, void* p), (m, type, p))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_enter_container, (sd_bus_message * m, char type, const char* contents),
                (m, type, contents))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_exit_container, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, const char*, sd_bus_message_get_sender, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, const char*, sd_bus_message_get_interface, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, const char*, sd_bus_message_get_member, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, const char*, sd_bus_message_get_path, (sd_bus_message * m), (m))
TETHER_LAZY_FWD(g_systemd, int, sd_bus_message_is_signal,
                (sd_bus_message * m, const char* interface, const char* member), (m, interface, member))
