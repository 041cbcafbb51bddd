#include <exception>

#include "lib/log/log.hpp"
#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "lib/util/undo_stack.hpp"

namespace tether::util {

void UndoStack::rollback() noexcept {
  while (!steps_.empty()) {
    Step step = std::move(steps_.back());
    steps_.pop_back();
    try {
      step.undo();
    } catch (const std::exception& e) {
      log::warn("undo '" + step.what + "' failed: " + e.what() + ", ignoring");
    } catch (...) {
      log::warn("undo '" + step.what + "' failed, ignoring");
    }
  }
}

void ErrorList::run(const std::string& what, const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (first_code_ == 0) first_code_ = e.code();
    errors_.push_back(what + ": " + e.what());
  } catch (const std::exception& e) {
    errors_.push_back(what + ": " + e.what());
  }
}

std::string ErrorList::joined() const {
  std::string out;
  for (const auto& e : errors_) {
    if (!out.empty()) out += "; ";
    out += e;
  }
  return out;
}

void ErrorList::throw_if_any() const {
  if (!errors_.empty()) throw Error(joined(), first_code_);
}

}  // namespace tether::util
