// Client::connect_if_running: nullopt without error and without waiting when there is no bus or
// no firewalld on it, a client when firewalld runs; and libsystemd is loaded only by a connection.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "fixture/firewalld_fixture.hpp"
#include "lib/dbus/bus.hpp"
#include "lib/firewalld/client.hpp"

namespace tether::firewalld {
namespace {

using testing::FirewalldSandbox;
using testing::FirewalldTest;
using testing::shell;
using Clock = std::chrono::steady_clock;

// Runs the probe (a fresh process linking lib/firewalld) against `bus_address`; its one line.
std::string probe(const std::string& bus_address) {
  std::string out;
  const int rc = shell("DBUS_SYSTEM_BUS_ADDRESS=" + bus_address + " " + TETHER_FIREWALLD_PROBE, &out);
  EXPECT_EQ(rc, 0) << out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class FirewalldConnectTest : public FirewalldTest {
 protected:
  std::optional<FirewalldSandbox::Start> sandbox_start() const override { return std::nullopt; }
  std::string temp_path(const std::string& name) {
    if (tmp_.empty()) {
      std::string t = "/tmp/tether-fwdc-XXXXXX";
      if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp");
      tmp_ = t;
    }
    return tmp_ + "/" + name;
  }
  void TearDown() override {
    FirewalldTest::TearDown();
    if (!tmp_.empty()) shell("rm -rf " + tmp_);
  }
  std::string tmp_;
};

TEST_F(FirewalldConnectTest, NoBusSocketIsNulloptWithoutLoadingLibsystemd) {
  // No socket: nullopt, decided by a stat before libsystemd is loaded; so nothing connected and
  // nothing could have waited for a timeout (the structural answer to "it does not block").
  const std::string out = probe("unix:path=" + temp_path("no-such-socket"));
  std::printf("probe, no bus socket: %s\n", out.c_str());
  EXPECT_TRUE(has(out, "client=0 libsystemd_before=0 libsystemd_after=0 ")) << out;
  // Also in this process (libsystemd may already be loaded here by an earlier test).
  set_bus_address("unix:path=" + temp_path("no-such-socket"));
  EXPECT_FALSE(Client::connect_if_running().has_value());
  EXPECT_FALSE(dbus::Bus::connect_system(std::chrono::seconds(5)).has_value());
}

TEST_F(FirewalldConnectTest, StaleSocketIsNullopt) {
  // A socket file nobody listens on (a crashed bus leaves one): connect() is refused at once.
  const std::string path = temp_path("stale");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  ::close(fd);  // never listened: the file stays, connections are refused
  set_bus_address("unix:path=" + path);
  EXPECT_FALSE(Client::connect_if_running().has_value());
  EXPECT_FALSE(dbus::Bus::connect_system(std::chrono::seconds(5)).has_value());
}

TEST_F(FirewalldConnectTest, BusWithoutFirewalldIsNullopt) {
  start_sandbox(FirewalldSandbox::Start::kBusOnly);
  // The bus is there and answers (so the nullopt below is about firewalld, not about the bus).
  auto bus = dbus::Bus::connect_system(std::chrono::seconds(5));
  ASSERT_TRUE(bus.has_value());
  EXPECT_TRUE(bus->name_has_owner("org.freedesktop.DBus"));
  EXPECT_FALSE(bus->name_owner("org.fedoraproject.FirewallD1").has_value());

  EXPECT_FALSE(Client::connect_if_running().has_value());
  // Asking did not start anything.
  EXPECT_FALSE(bus->name_has_owner("org.fedoraproject.FirewallD1"));
}

TEST_F(FirewalldConnectTest, CallsNeverActivateAService) {
  start_sandbox(FirewalldSandbox::Start::kBusOnly);
  auto bus = dbus::Bus::connect_system(std::chrono::seconds(5));
  ASSERT_TRUE(bus.has_value());
  // A call to a name nobody owns is answered by the bus at once. NameHasNoOwner is the bus's answer
  // to a NO_AUTO_START call; one allowing activation gets ServiceUnknown from this bus (it has no
  // service files), after an activation attempt.
  try {
    bus->call({"org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1.zone"},
              "getZoneOfSource", {"10.88.0.0/24"});
    ADD_FAILURE() << "call to an absent service succeeded";
  } catch (const dbus::CallError& e) {
    EXPECT_EQ(e.name(), "org.freedesktop.DBus.Error.NameHasNoOwner") << e.what();
    EXPECT_NE(std::string(e.what()).find("org.fedoraproject.FirewallD1.zone.getZoneOfSource('10.88.0.0/24')"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(FirewalldConnectTest, RunningFirewalldGivesAClient) {
  start_sandbox(FirewalldSandbox::Start::kWithFirewalld);
  auto client = Client::connect_if_running();
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->zone_of_source("10.88.0.0/24"), "");
}

TEST_F(FirewalldConnectTest, LibsystemdIsLoadedByAConnectionOnly) {
  // The positive control of NoBusSocketIsNulloptWithoutLoadingLibsystemd: the same probe does see
  // libsystemd mapped once it connected to a bus (here one without firewalld: still client=0).
  start_sandbox(FirewalldSandbox::Start::kBusOnly);
  std::string out = probe(sandbox().bus_address());
  EXPECT_TRUE(has(out, "client=0 libsystemd_before=0 libsystemd_after=1 ")) << out;
  sandbox().start_firewalld();
  out = probe(sandbox().bus_address());
  EXPECT_TRUE(has(out, "client=1 libsystemd_before=0 libsystemd_after=1 ")) << out;
}

TEST_F(FirewalldConnectTest, BinariesDoNotLinkLibsystemd) {
  // The probe and this test binary link lib/dbus (the plugin will): none may need libsystemd to
  // start. ldd lists the whole dependency closure, so an indirect need would show too.
  char self[4096] = {};
  ASSERT_GT(::readlink("/proc/self/exe", self, sizeof self - 1), 0);
  // (tether-ipam is a static executable: no dynamic dependencies at all.)
  for (const std::string& bin :
       {std::string(self), std::string(TETHER_FIREWALLD_PROBE), std::string(TETHER_PLUGIN_BIN)}) {
    std::string out;
    ASSERT_EQ(shell("ldd " + bin, &out), 0) << bin << ": " << out;
    EXPECT_TRUE(has(out, "libc.so.6")) << bin << ": " << out;  // ldd did list its libraries
    EXPECT_FALSE(has(out, "libsystemd")) << bin << ": " << out;
  }
}

}  // namespace
}  // namespace tether::firewalld
