#include "model/log.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(LogFilter, DefaultsToWarn) {
  LogFilter f;
  EXPECT_TRUE(f.enabled("mesh", LogLevel::error));
  EXPECT_TRUE(f.enabled("mesh", LogLevel::warn));
  EXPECT_FALSE(f.enabled("mesh", LogLevel::info));
}

TEST(LogFilter, ParsesPerComponentLevels) {
  std::string error;
  auto f = LogFilter::parse("mesh=debug,ipam,*=error,dns=info", &error);
  ASSERT_TRUE(f) << error;
  EXPECT_TRUE(f->enabled("mesh", LogLevel::debug));
  EXPECT_TRUE(f->enabled("ipam", LogLevel::debug));  // bare name: debug
  EXPECT_TRUE(f->enabled("dns", LogLevel::info));
  EXPECT_FALSE(f->enabled("dns", LogLevel::debug));
  EXPECT_FALSE(f->enabled("policy", LogLevel::warn));  // "*" moved the default
  EXPECT_TRUE(f->enabled("policy", LogLevel::error));
}

TEST(LogFilter, RejectsBadSpecWithReason) {
  std::string error;
  EXPECT_FALSE(LogFilter::parse("mesh=loud", &error));
  EXPECT_NE(error.find("mesh=loud"), std::string::npos) << error;
  EXPECT_FALSE(LogFilter::parse("=debug", &error));
}

class RecordingLog final : public Log {
 public:
  bool enabled(std::string_view c, LogLevel l) const override { return filter.enabled(c, l); }
  void write(std::string_view c, LogLevel, std::string_view m) override {
    lines.push_back(std::string(c) + ": " + std::string(m));
  }
  LogFilter filter;
  std::vector<std::string> lines;
};

TEST(LogMacro, FormatsOnlyWhenEnabled) {
  RecordingLog log;
  int evaluated = 0;
  auto costly = [&] {
    ++evaluated;
    return 7;
  };
  LOOM_LOG(log, "mesh", debug, "value " << costly());
  EXPECT_EQ(evaluated, 0);
  EXPECT_TRUE(log.lines.empty());
  LOOM_LOG(log, "mesh", warn, "value " << costly());
  EXPECT_EQ(evaluated, 1);
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "mesh: value 7");
}

}  // namespace
}  // namespace loom
