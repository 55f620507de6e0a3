// A three-host chain: A reaches C through B with static routes.
#include <chrono>
#include <optional>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(SimRouting, AReachesCThroughB) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  const size_t c = world.add_host("c");
  world.link(a, b);
  world.link(b, c);
  Host& ha = world.host(a);
  Host& hc = world.host(c);
  EXPECT_EQ(world.host(b).address().to_string(), "172.16.0.2");  // its first link
  EXPECT_EQ(hc.address().to_string(), "172.16.0.6");

  auto sa = ha.udp(6784);
  auto sc = hc.udp(6784);
  ASSERT_TRUE(sa.ok() && sc.ok());
  std::optional<Endpoint> from;
  Time at{};
  (*sc)->on_receive([&](const Endpoint& source, ByteView) {
    from = source;
    at = hc.now();
  });
  ha.after(milliseconds(10), [&] { (*sa)->send_to({hc.address(), 6784}, Bytes(100, 1)); });
  world.run_until(milliseconds(100));
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(*from, (Endpoint{ha.address(), 6784}));
  // Two hops of 1 ms, each serialising 130 bytes at 1 Gbit/s.
  EXPECT_EQ(at, milliseconds(10) + 2 * (milliseconds(1) + nanoseconds(1040)));

  bool connected = false;
  ASSERT_TRUE(hc.listen(6783, [](StreamPtr) {}).ok());
  ha.connect({hc.address(), 6783}, [&](Result<StreamPtr> result) {
    EXPECT_TRUE(result.ok());
    connected = result.ok();
  });
  EXPECT_TRUE(world.run_until([&] { return connected; }, seconds(5)));
}

TEST(SimRouting, LinksAddedAfterRunningAreRoutedToo) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  world.run_for(milliseconds(1));
  const size_t c = world.add_host("c");
  world.link(c, b);
  auto sa = world.host(a).udp(6784);
  auto sc = world.host(c).udp(6784);
  ASSERT_TRUE(sa.ok() && sc.ok());
  int received = 0;
  (*sa)->on_receive([&](const Endpoint&, ByteView) { ++received; });
  world.finalize_routes();
  EXPECT_TRUE((*sc)->send_to({world.host(a).address(), 6784}, Bytes(10, 1)));
  world.run_for(milliseconds(10));
  EXPECT_EQ(received, 1);
}

}  // namespace
}  // namespace loom::sim
