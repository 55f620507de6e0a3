// Host timers on ns-3's virtual clock.
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(SimTimer, FiresAtExactVirtualTimes) {
  World world;
  Host& host = world.host(world.add_host("h"));
  std::vector<Time> fired;
  host.after(milliseconds(5), [&] { fired.push_back(host.now()); });
  host.after(nanoseconds(1), [&] { fired.push_back(host.now()); });
  host.after(milliseconds(5), [&] {
    fired.push_back(host.now());
    host.after(milliseconds(2), [&] { fired.push_back(host.now()); });
  });
  world.run_until(milliseconds(100));
  EXPECT_EQ(fired,
            (std::vector<Time>{nanoseconds(1), milliseconds(5), milliseconds(5), milliseconds(7)}));
  EXPECT_EQ(world.now(), milliseconds(100));
}

TEST(SimTimer, CancelStopsATimerAndIgnoresFiredOrUnknownIds) {
  World world;
  Host& host = world.host(world.add_host("h"));
  int a = 0;
  int b = 0;
  TimerId first = host.after(milliseconds(1), [&] { ++a; });
  TimerId second = host.after(milliseconds(2), [&] { ++b; });
  EXPECT_NE(first, 0u);
  EXPECT_NE(first, second);
  host.cancel(second);
  world.run_until(milliseconds(10));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  host.cancel(first);  // fired: ignored
  host.cancel(12345);  // unknown: ignored
  host.cancel(0);
}

TEST(SimTimer, ZeroAndNegativeDelaysRunLaterAtTheSameTime) {
  World world;
  Host& host = world.host(world.add_host("h"));
  world.run_until(milliseconds(3));
  std::vector<int> order;
  host.after(Time::zero(), [&] { order.push_back(1); });
  host.after(nanoseconds(-5), [&] {
    order.push_back(2);
    EXPECT_EQ(host.now(), milliseconds(3));
  });
  EXPECT_TRUE(order.empty());  // never before returning
  world.run_until(milliseconds(3));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(SimTimer, RunUntilDoneStopsAtTheCallbackThatMadeItTrue) {
  World world;
  Host& host = world.host(world.add_host("h"));
  int ticks = 0;
  std::function<void()> tick = [&] {
    ++ticks;
    host.after(milliseconds(10), tick);
  };
  host.after(milliseconds(10), tick);
  EXPECT_TRUE(world.run_until([&] { return ticks == 3; }, std::chrono::seconds(10)));
  EXPECT_EQ(world.now(), milliseconds(30));
  EXPECT_FALSE(world.run_until([&] { return ticks == 100; }, milliseconds(95)));
  EXPECT_EQ(world.now(), milliseconds(95));
  EXPECT_EQ(ticks, 9);
}

}  // namespace
}  // namespace loom::sim
