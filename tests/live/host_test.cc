// LinuxHost basics: timers per host, seed, bridge without a TAP, options.
#include <stdlib.h>

#include "real-backend/linux_host.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kAddrA;
using testing::kAddrB;
using testing::kPatience;
using testing::make_host;
using testing::make_loop;

TEST(LinuxHost, TimersRunFromTheLoopNeverInsideAfter) {
  auto loop = make_loop();
  auto host = make_host(*loop, "a", kAddrA);
  bool fired = false;
  host->after(0ms, [&] { fired = true; });
  EXPECT_FALSE(fired);
  ASSERT_TRUE(loop->run_until([&] { return fired; }, kPatience));
}

TEST(LinuxHost, ClockIsTheLoopsClock) {
  auto loop = make_loop();
  auto host = make_host(*loop, "a", kAddrA);
  const Time before = loop->now();
  const Time t = host->now();
  EXPECT_GE(t, before);
  EXPECT_LE(t, loop->now());
}

TEST(LinuxHost, CancelTouchesOnlyThisHostsTimers) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto b = make_host(*loop, "b", kAddrB);
  bool b_fired = false;
  TimerId id = b->after(1ms, [&] { b_fired = true; });
  a->cancel(id);
  ASSERT_TRUE(loop->run_until([&] { return b_fired; }, kPatience));
}

TEST(LinuxHost, DestroyingTheHostCancelsItsTimers) {
  auto loop = make_loop();
  auto host = make_host(*loop, "a", kAddrA);
  bool fired = false;
  host->after(1ms, [&] { fired = true; });
  host.reset();
  loop->run_for(30ms);
  EXPECT_FALSE(fired);
  EXPECT_EQ(loop->pending_timers(), 0u);
}

TEST(LinuxHost, SeedMakesRandomReproducible) {
  auto loop = make_loop();
  auto options = testing::options_for("a", kAddrA);
  options.seed = 42;
  auto host = LinuxHost::create(*loop, options);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ((*host)->seed(), 42u);
  Random expected(42);
  EXPECT_EQ((*host)->random().next(), expected.next());

  options.seed = 0;  // from the kernel, and reported
  auto other = LinuxHost::create(*loop, options);
  ASSERT_TRUE(other.ok());
  EXPECT_NE((*other)->seed(), 0u);
}

TEST(LinuxHost, BridgeWithoutTapDropsAndCountsFrames) {
  auto loop = make_loop();
  auto host = make_host(*loop, "a", kAddrA);
  Bytes frame(60, 0xab);
  EXPECT_FALSE(host->bridge().send(frame));
  EXPECT_EQ(host->bridge().mtu(), 1376u);
  EXPECT_EQ(host->metrics().value("loom_host_dropped_total", {{"reason", "bridge_no_port"}}), 1);
}

TEST(LinuxHost, NameAndAddressComeFromOptions) {
  auto loop = make_loop();
  auto host = make_host(*loop, "host-b", kAddrB);
  EXPECT_EQ(host->name(), "host-b");
  EXPECT_EQ(host->address(), kAddrB);
}

TEST(LinuxHost, OptionsFromEnvironmentReadLoomLog) {
  ::setenv("LOOM_LOG", "mesh=debug,*=error", 1);
  auto options = LinuxHostOptions::from_environment("h");
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->name, "h");
  EXPECT_TRUE(options->log_filter.enabled("mesh", LogLevel::debug));
  EXPECT_FALSE(options->log_filter.enabled("ipam", LogLevel::warn));

  ::setenv("LOOM_LOG", "mesh=loud", 1);
  auto bad = LinuxHostOptions::from_environment("h");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("LOOM_LOG"), std::string::npos) << bad.error().message;
  ::unsetenv("LOOM_LOG");
}

TEST(LinuxHost, StorePathGivesADurableStore) {
  testing::ScratchDir dir;
  auto loop = make_loop();
  auto options = testing::options_for("a", kAddrA);
  options.store_path = dir.file("state/host.store");
  {
    auto host = LinuxHost::create(*loop, options);
    ASSERT_TRUE(host.ok()) << host.error().message;
    ASSERT_TRUE((*host)->store().put("ring", "tokens"));
  }
  auto again = LinuxHost::create(*loop, options);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->store().get("ring"), "tokens");
}

TEST(LinuxHost, MissingTapIsAClearError) {
  auto loop = make_loop();
  auto options = testing::options_for("a", kAddrA);
  options.tap_name = "a-name-far-too-long-for-linux";
  auto host = LinuxHost::create(*loop, options);
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.error().message.find("a-name-far-too-long-for-linux"), std::string::npos);
}

}  // namespace
}  // namespace loom::live
