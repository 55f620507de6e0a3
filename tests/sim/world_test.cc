// World as a whole: one at a time, many in a row, logs, store.
#include "sim/world.h"

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace loom::sim {
namespace {

using std::chrono::milliseconds;

// One small run; returns (arrival time, events executed).
std::pair<Time, uint64_t> small_run() {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  auto sa = world.host(a).udp(6784);
  auto sb = world.host(b).udp(6784);
  Time at{};
  (*sb)->on_receive([&](const Endpoint&, ByteView) { at = world.now(); });
  world.host(a).after(milliseconds(2), [&] {
    (*sa)->send_to({world.host(b).address(), 6784}, Bytes(100, 0));
  });
  world.run_until(milliseconds(10));
  return {at, world.events_executed()};
}

TEST(SimWorld, ManyWorldsOneAfterAnotherStartClean) {
  const auto first = small_run();
  EXPECT_GT(first.first, Time::zero());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(small_run(), first);
}

TEST(SimWorldDeathTest, OnlyOneWorldAtATime) {
  World world;
  EXPECT_DEATH({ World second; }, "only one World may exist at a time");
}

TEST(SimWorld, LogLinesCarryVirtualTimeHostAndComponent) {
  std::vector<std::string> lines;
  WorldOptions options;
  options.log_filter = *LogFilter::parse("mesh=info");
  options.log_sink = [&](std::string_view line) { lines.emplace_back(line); };
  World world(options);
  Host& host = world.host(world.add_host("host1"));
  host.after(std::chrono::microseconds(12345678), [&] {
    LOOM_LOG(host.log(), "mesh", info, "message " << 42);
    LOOM_LOG(host.log(), "mesh", debug, "not shown");
    LOOM_LOG(host.log(), "ipam", info, "not shown either");
  });
  world.run_for(std::chrono::seconds(13));
  EXPECT_EQ(lines, (std::vector<std::string>{"[   12.345678s] host1 mesh info: message 42"}));
}

TEST(SimWorld, LogFilterComesFromLoomLog) {
  ::setenv("LOOM_LOG", "mesh=debug", 1);
  auto filter = log_filter_from_env();
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->enabled("mesh", LogLevel::debug));
  EXPECT_FALSE(filter->enabled("ipam", LogLevel::info));
  ::setenv("LOOM_LOG", "mesh=loud", 1);
  auto bad = log_filter_from_env();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("LOOM_LOG"), std::string::npos);
  ::unsetenv("LOOM_LOG");
  auto unset = log_filter_from_env();
  ASSERT_TRUE(unset.ok());
  EXPECT_TRUE(unset->enabled("anything", LogLevel::warn));
  EXPECT_FALSE(unset->enabled("anything", LogLevel::info));
}

TEST(SimWorld, HostsHaveTheirOwnStoreMetricsAndRandomStreams) {
  World world;
  Host& a = world.host(world.add_host("a"));
  Host& b = world.host(world.add_host("b"));
  EXPECT_EQ(a.name(), "a");
  EXPECT_TRUE(a.store().put("ring", "x").ok());
  EXPECT_EQ(a.store().get("ring"), "x");
  EXPECT_FALSE(b.store().get("ring").has_value());
  a.metrics().counter("weave_connections").add(2);
  EXPECT_EQ(a.metrics().value("weave_connections"), 2);
  EXPECT_EQ(b.metrics().value("weave_connections"), 0);
  EXPECT_NE(a.random().next(), b.random().next());
  EXPECT_EQ(world.host_count(), 2u);
  EXPECT_THROW(world.host(2), std::out_of_range);
  EXPECT_THROW(world.link(0, 0), std::invalid_argument);
  EXPECT_THROW(world.link(0, 1, LinkSpec{"fast", milliseconds(1), 0}), std::invalid_argument);
  EXPECT_THROW(world.link(0, 1, LinkSpec{"1Gbps", milliseconds(1), 1.5}), std::invalid_argument);
}

}  // namespace
}  // namespace loom::sim
