#pragma once
// LIFO rollback: push the inverse of each mutation right after it succeeds; commit() at the end.
// Without commit(), the destructor runs every undo in reverse order. Undo actions must not throw;
// a throwing one is logged and the rest still run.
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace tether::util {

class UndoStack {
 public:
  UndoStack() = default;
  UndoStack(const UndoStack&) = delete;
  UndoStack& operator=(const UndoStack&) = delete;
  ~UndoStack() { rollback(); }

  void push(std::string what, std::function<void()> undo) { steps_.push_back({std::move(what), std::move(undo)}); }
  void commit() noexcept { steps_.clear(); }
  void rollback() noexcept;
  std::size_t size() const noexcept { return steps_.size(); }

 private:
  struct Step {
    std::string what;
    std::function<void()> undo;
  };
  std::vector<Step> steps_;
};

}  // namespace tether::util
