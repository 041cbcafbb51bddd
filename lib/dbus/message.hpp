#pragma once
// Message: owner of one sd_bus_message reference (a method call being built, a reply, a signal),
// with the typed appends and reads tether needs. Every failure is a tether::Error naming the
// message ("org.fedoraproject.FirewallD1.zone.getZoneOfSource('10.88.0.0/24') reply"), the
// operation and the reason.
#include <string>
#include <string_view>
#include <vector>

struct sd_bus_message;

namespace tether::dbus {

class Message {
 public:
  Message() = default;
  Message(Message&& o) noexcept;
  Message& operator=(Message&& o) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  ~Message();

  // Arguments of a method call, in order: 's' and 'b'.
  Message& append(std::string_view s);
  Message& append(const char* s) { return append(std::string_view(s)); }
  Message& append(bool b);

  // Arguments of a reply or signal, in order. Throws when the next argument has another type or
  // there is none.
  std::string read_string();
  bool read_bool();
  std::vector<std::string> read_string_array();  // 'as'

  // Header fields ("" when absent).
  std::string sender() const;  // the unique name (":1.42") of the connection that sent it
  std::string interface() const;
  std::string member() const;
  std::string path() const;
  bool is_signal(const char* interface, const char* member) const;

  // What error messages call this message: "interface.member('arg', …)", then " reply" for a reply.
  std::string label() const;

 private:
  friend class Bus;
  Message(sd_bus_message* adopted, std::string name, std::string args = {}, std::string suffix = {}) noexcept
      : m_(adopted), name_(std::move(name)), args_(std::move(args)), suffix_(std::move(suffix)) {}
  sd_bus_message* get() const noexcept { return m_; }
  const std::string& args() const noexcept { return args_; }
  [[noreturn]] void fail(const std::string& op, int rc) const;
  void note_arg(const std::string& text) { args_ += (args_.empty() ? "" : ", ") + text; }

  sd_bus_message* m_ = nullptr;
  std::string name_;         // interface.member
  std::string args_;         // the appended arguments, as text
  std::string suffix_;       // " reply", " signal"
  std::string destination_;  // of a method call: the service it goes to
};

}  // namespace tether::dbus
