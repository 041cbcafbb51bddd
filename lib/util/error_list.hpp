#pragma once
// Collect-and-continue for best-effort teardown (DEL, GC): run every step, remember what failed,
// throw once at the end.
#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace tether::util {

class ErrorList {
 public:
  // Runs fn; a thrown exception is recorded as "<what>: <message>" instead of propagating.
  void run(const std::string& what, const std::function<void()>& fn);
  void add(std::string message) { errors_.push_back(std::move(message)); }
  bool empty() const noexcept { return errors_.empty(); }
  const std::vector<std::string>& errors() const noexcept { return errors_; }
  std::string joined() const;  // "a; b; c"
  // Throws one tether::Error with all messages joined and the code of the first coded failure.
  void throw_if_any() const;

 private:
  std::vector<std::string> errors_;
  int first_code_ = 0;
};

}  // namespace tether::util
