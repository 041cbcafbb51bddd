#include "lib/dbus/message.hpp"

#include <systemd/sd-bus.h>

#include <cstring>
#include <utility>

#include "lib/util/error.hpp"

namespace tether::dbus {

Message::Message(Message&& o) noexcept
    : m_(std::exchange(o.m_, nullptr)),
      name_(std::move(o.name_)),
      args_(std::move(o.args_)),
      suffix_(std::move(o.suffix_)),
      destination_(std::move(o.destination_)) {}

Message& Message::operator=(Message&& o) noexcept {
  if (this != &o) {
    if (m_ != nullptr) sd_bus_message_unref(m_);
    m_ = std::exchange(o.m_, nullptr);
    name_ = std::move(o.name_);
    args_ = std::move(o.args_);
    suffix_ = std::move(o.suffix_);
    destination_ = std::move(o.destination_);
  }
  return *this;
}

Message::~Message() {
  if (m_ != nullptr) sd_bus_message_unref(m_);
}

std::string Message::label() const { return name_ + "(" + args_ + ")" + suffix_; }

void Message::fail(const std::string& op, int rc) const {
  throw Error("D-Bus: " + op + " " + label() + ": " + std::strerror(-rc));
}

Message& Message::append(std::string_view s) {
  const std::string str(s);  // sd-bus wants NUL-terminated text
  if (const int rc = sd_bus_message_append_basic(m_, SD_BUS_TYPE_STRING, str.c_str()); rc < 0)
    fail("append string '" + str + "' to", rc);
  note_arg("'" + str + "'");  // so that a failed call names its arguments
  return *this;
}

Message& Message::append(bool b) {
  const int v = b ? 1 : 0;
  if (const int rc = sd_bus_message_append_basic(m_, SD_BUS_TYPE_BOOLEAN, &v); rc < 0) fail("append boolean to", rc);
  note_arg(b ? "true" : "false");
  return *this;
}

std::string Message::read_string() {
  const char* s = nullptr;
  const int rc = sd_bus_message_read_basic(m_, SD_BUS_TYPE_STRING, &s);
  if (rc < 0) fail("read a string from", rc);
  if (rc == 0) throw Error("D-Bus: read a string from " + label() + ": no more arguments");
  return s;
}

bool Message::read_bool() {
  int v = 0;
  const int rc = sd_bus_message_read_basic(m_, SD_BUS_TYPE_BOOLEAN, &v);
  if (rc < 0) fail("read a boolean from", rc);
  if (rc == 0) throw Error("D-Bus: read a boolean from " + label() + ": no more arguments");
  return v != 0;
}

std::vector<std::string> Message::read_string_array() {
  int rc = sd_bus_message_enter_container(m_, SD_BUS_TYPE_ARRAY, "s");
  if (rc < 0) fail("read a string array from", rc);
  if (rc == 0) throw Error("D-Bus: read a string array from " + label() + ": no more arguments");
  std::vector<std::string> out;
  const char* s = nullptr;
  while ((rc = sd_bus_message_read_basic(m_, SD_BUS_TYPE_STRING, &s)) > 0) out.emplace_back(s);
  if (rc < 0) fail("read a string array element from", rc);
  if ((rc = sd_bus_message_exit_container(m_)) < 0) fail("leave the string array of", rc);
  return out;
}

namespace {
std::string or_empty(const char* s) { return s != nullptr ? s : ""; }
}  // namespace

std::string Message::sender() const { return or_empty(sd_bus_message_get_sender(m_)); }
std::string Message::interface() const { return or_empty(sd_bus_message_get_interface(m_)); }
std::string Message::member() const { return or_empty(sd_bus_message_get_member(m_)); }
std::string Message::path() const { return or_empty(sd_bus_message_get_path(m_)); }

bool Message::is_signal(const char* interface, const char* member) const {
  return sd_bus_message_is_signal(m_, interface, member) > 0;
}

}  // namespace tether::dbus
