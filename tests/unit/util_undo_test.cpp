#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "lib/util/error.hpp"
#include "lib/util/error_list.hpp"
#include "lib/util/undo_stack.hpp"

namespace tether::util {
namespace {

TEST(UtilUndoStack, RollsBackInReverseOrderWithoutCommit) {
  std::vector<int> order;
  {
    UndoStack undo;
    undo.push("one", [&] { order.push_back(1); });
    undo.push("two", [&] { order.push_back(2); });
    undo.push("three", [&] { order.push_back(3); });
    EXPECT_EQ(undo.size(), 3u);
  }
  EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
}

TEST(UtilUndoStack, CommitDropsUndos) {
  int runs = 0;
  {
    UndoStack undo;
    undo.push("x", [&] { ++runs; });
    undo.commit();
    EXPECT_EQ(undo.size(), 0u);
  }
  EXPECT_EQ(runs, 0);
}

TEST(UtilUndoStack, ThrowingUndoDoesNotStopTheRest) {
  std::vector<std::string> ran;
  {
    UndoStack undo;
    undo.push("a", [&] { ran.push_back("a"); });
    undo.push("b", [&] {
      ran.push_back("b");
      throw std::runtime_error("boom");
    });
    undo.push("c", [&] {
      ran.push_back("c");
      throw 42;  // not even a std::exception
    });
    ::testing::internal::CaptureStderr();
    undo.rollback();
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("undo 'b' failed: boom, ignoring"), std::string::npos) << err;
    EXPECT_EQ(undo.size(), 0u);
  }
  EXPECT_EQ(ran, (std::vector<std::string>{"c", "b", "a"}));
}

TEST(UtilUndoStack, ExplicitRollbackRunsOnce) {
  int runs = 0;
  {
    UndoStack undo;
    undo.push("x", [&] { ++runs; });
    undo.rollback();
  }
  EXPECT_EQ(runs, 1);
}

TEST(UtilErrorList, CollectsAndContinues) {
  ErrorList errors;
  int ran = 0;
  errors.run("first", [&] { ++ran; });
  errors.run("second", [&] {
    ++ran;
    throw std::runtime_error("plain");
  });
  errors.run("third", [&] {
    ++ran;
    throw Error("coded", 11);
  });
  errors.run("fourth", [&] {
    ++ran;
    throw Error("later coded", 7);
  });
  EXPECT_EQ(ran, 4);
  EXPECT_FALSE(errors.empty());
  EXPECT_EQ(errors.errors().size(), 3u);
  EXPECT_EQ(errors.joined(), "second: plain; third: coded; fourth: later coded");
  try {
    errors.throw_if_any();
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), 11);  // the first coded failure
    EXPECT_STREQ(e.what(), "second: plain; third: coded; fourth: later coded");
  }
}

TEST(UtilErrorList, EmptyDoesNotThrow) {
  ErrorList errors;
  errors.run("ok", [] {});
  EXPECT_TRUE(errors.empty());
  EXPECT_NO_THROW(errors.throw_if_any());
  errors.add("manual");
  EXPECT_THROW(errors.throw_if_any(), Error);
}

}  // namespace
}  // namespace tether::util
