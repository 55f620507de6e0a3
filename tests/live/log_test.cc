// StderrLog: the line format and the filter.
#include <cctype>

#include <fcntl.h>
#include <unistd.h>

#include "real-backend/stderr_log.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

TEST(StderrLog, LineLayout) {
  EXPECT_EQ(StderrLog::format(1795708800123, "host1", "mesh", LogLevel::info, "message"),
            "2026-11-26T16:00:00.123Z host1 mesh info: message");
  EXPECT_EQ(StderrLog::format(5, "h", "ipam", LogLevel::debug, "x"),
            "1970-01-01T00:00:00.005Z h ipam debug: x");
}

TEST(StderrLog, WritesEnabledLinesOnly) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  auto filter = LogFilter::parse("mesh=debug,*=error");
  ASSERT_TRUE(filter.has_value());
  StderrLog log("host1", *filter, fds[1]);
  LOOM_LOG(log, "mesh", debug, "peer " << 42 << " connected");
  LOOM_LOG(log, "ipam", info, "not shown");
  char buf[512];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ASSERT_GT(n, 0);
  const std::string out(buf, static_cast<size_t>(n));
  // "YYYY-MM-DDTHH:MM:SS.mmmZ " then the rest (std::regex trips g++ 12's
  // -Wmaybe-uninitialized under the sanitizers).
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ ";
  ASSERT_GT(out.size(), shape.size()) << out;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd') {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(out[i]))) << out;
    } else {
      EXPECT_EQ(out[i], shape[i]) << out;
    }
  }
  EXPECT_EQ(out.substr(shape.size()), "host1 mesh debug: peer 42 connected\n");
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(StderrLog, FilterFromEnvironment) {
  ::unsetenv("LOOM_TEST_LOG");
  auto unset = log_filter_from_env("LOOM_TEST_LOG");
  ASSERT_TRUE(unset.ok());
  EXPECT_TRUE(unset->enabled("mesh", LogLevel::warn));
  EXPECT_FALSE(unset->enabled("mesh", LogLevel::info));

  ::setenv("LOOM_TEST_LOG", "ipam", 1);
  auto bare = log_filter_from_env("LOOM_TEST_LOG");
  ASSERT_TRUE(bare.ok());
  EXPECT_TRUE(bare->enabled("ipam", LogLevel::debug));

  ::setenv("LOOM_TEST_LOG", "=debug", 1);
  auto bad = log_filter_from_env("LOOM_TEST_LOG");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("LOOM_TEST_LOG"), std::string::npos);
  ::unsetenv("LOOM_TEST_LOG");
}

}  // namespace
}  // namespace loom::live
