#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/log/log.hpp"

namespace tether::log {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-log-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/plugin.log";
  }
  void TearDown() override {
    configure(Level::Warning);  // back to stderr, closes the file
    set_context("");
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string read_log() const {
    std::ifstream f(path_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::string dir_, path_;
};

TEST(LogLevel, ParsesNamesCaseInsensitively) {
  struct Case {
    const char* text;
    Level level;
  };
  for (const Case& c : {Case{"debug", Level::Debug}, Case{"INFO", Level::Info}, Case{"warning", Level::Warning},
                        Case{"warn", Level::Warning}, Case{"Error", Level::Error}, Case{"panic", Level::Off},
                        Case{"off", Level::Off}}) {
    Level out = Level::Debug;
    EXPECT_TRUE(parse_level(c.text, out)) << c.text;
    EXPECT_EQ(out, c.level) << c.text;
  }
  Level out = Level::Info;
  EXPECT_FALSE(parse_level("verbose", out));
  EXPECT_FALSE(parse_level("", out));
  EXPECT_EQ(out, Level::Info);  // untouched on failure
}

TEST_F(LogTest, FileSinkFiltersByLevelAndCarriesContext) {
  configure(Level::Info, path_);
  EXPECT_EQ(level(), Level::Info);
  set_context("ADD abc123/eth0");
  debug("hidden-debug");
  info("shown-info");
  error("shown-error");
  const std::string text = read_log();
  EXPECT_EQ(text.find("hidden-debug"), std::string::npos);
  const std::string prog = program_invocation_short_name;
  EXPECT_NE(text.find("info " + prog + "[" + std::to_string(::getpid()) + "] ADD abc123/eth0: shown-info\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("error " + prog + "["), std::string::npos);
  EXPECT_NE(text.find("ADD abc123/eth0: shown-error\n"), std::string::npos);
  // Two lines, each starting with an RFC 3339 UTC timestamp.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(text[4], '-');
  EXPECT_EQ(text[10], 'T');
}

TEST_F(LogTest, FileIsAppendedNotTruncated) {
  configure(Level::Warning, path_);
  warn("first");
  configure(Level::Warning, path_);
  warn("second");
  const std::string text = read_log();
  EXPECT_NE(text.find("first"), std::string::npos);
  EXPECT_NE(text.find("second"), std::string::npos);
}

TEST_F(LogTest, OffWritesNothing) {
  configure(Level::Off, path_);
  error("nothing");
  EXPECT_EQ(read_log(), "");
}

TEST_F(LogTest, UnopenableFileFallsBackToStderr) {
  ::testing::internal::CaptureStderr();
  configure(Level::Warning, dir_ + "/missing-dir/x.log");
  warn("to-stderr");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("cannot open logFile"), std::string::npos) << err;
  EXPECT_NE(err.find("to-stderr"), std::string::npos) << err;
}

}  // namespace
}  // namespace tether::log
