// lib/dbus/address: which system bus address is used and which socket paths a stat can rule out.
#include "lib/dbus/address.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tether::dbus {
namespace {

using Paths = std::optional<std::vector<std::string>>;

TEST(DbusAddressTest, SystemBusAddressHonoursTheEnvironment) {
  const char* saved = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  const std::optional<std::string> old = saved ? std::optional<std::string>(saved) : std::nullopt;
  ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
  EXPECT_EQ(system_bus_address(), "unix:path=/run/dbus/system_bus_socket");
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "", 1);  // empty counts as unset (as in sd-bus and libdbus)
  EXPECT_EQ(system_bus_address(), "unix:path=/run/dbus/system_bus_socket");
  ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/tmp/x", 1);
  EXPECT_EQ(system_bus_address(), "unix:path=/tmp/x");
  if (old)
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", old->c_str(), 1);
  else
    ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
}

TEST(DbusAddressTest, UnixSocketPaths) {
  EXPECT_EQ(unix_socket_paths("unix:path=/run/dbus/system_bus_socket"), Paths({"/run/dbus/system_bus_socket"}));
  EXPECT_EQ(unix_socket_paths("unix:path=/a;unix:path=/b"), Paths({"/a", "/b"}));
  EXPECT_EQ(unix_socket_paths("unix:path=/a;"), Paths({"/a"}));
  EXPECT_EQ(unix_socket_paths("unix:guid=0123456789abcdef0123456789abcdef,path=/a"), Paths({"/a"}));
  EXPECT_EQ(unix_socket_paths("unix:path=/tmp/with%20space%2c"), Paths({"/tmp/with space,"}));
}

TEST(DbusAddressTest, AddressesAStatCannotJudge) {
  for (const char* a : {"unix:abstract=/tmp/dbus-x", "tcp:host=localhost,port=1234", "unix:path=/a;tcp:host=h,port=1",
                        "unixexec:path=/bin/true", "unix:tmpdir=/tmp", "unix:runtime=yes", "", ";",
                        "unix:", "unix:path=", "unix:path=/a%2", "unix:path=/a%zz", "unix:pathonly"}) {
    EXPECT_EQ(unix_socket_paths(a), std::nullopt) << a;
    EXPECT_TRUE(may_be_listening(a)) << a;  // so the caller tries to connect
  }
}

TEST(DbusAddressTest, MayBeListeningIsFalseOnlyWhenEverySocketIsMissing) {
  std::string dir = (std::filesystem::temp_directory_path() / "tether-dbus-addr-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string sock = dir + "/sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof sa.sun_path);
  sock.copy(sa.sun_path, sock.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);

  EXPECT_FALSE(may_be_listening("unix:path=" + dir + "/missing"));
  EXPECT_FALSE(may_be_listening("unix:path=" + dir + "/missing;unix:path=" + dir + "/missing-too"));
  EXPECT_FALSE(may_be_listening("unix:path=" + sock + "/below-a-socket"));  // ENOTDIR: absent too
  EXPECT_TRUE(may_be_listening("unix:path=" + sock));
  EXPECT_TRUE(may_be_listening("unix:path=" + dir + "/missing;unix:path=" + sock));

  ::close(fd);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace tether::dbus
