// fastdp falls back to sleeve when its VXLAN heartbeats stop, and returns
// when they resume (Weave 2.5+, weave-protocol.md 3.3), with the times
// Weave's timers give:
//
//   heartbeats every 10 s once established; 6 missed (60 s since the last
//   one received) put fastdp on hold. Blocked at T, the last heartbeat got
//   through in (T - 10 s, T], so traffic moves to sleeve in (T + 50 s,
//   T + 60 s]. Unblocked at U, the next heartbeat (at most 10 s later)
//   brings fastdp back in (U, U + 10 s].
//
// plus one frame's one-way delay (2 ms here) and the 10 ms polling step.
#include <gtest/gtest.h>

#include "tests/dataplane/dataplane_test_net.h"

namespace loom::dataplane::testing {
namespace {

constexpr Time kSlack = 50ms;

double seconds(Time t) { return std::chrono::duration<double>(t).count(); }

struct TwoPeers {
  DataplaneNet net;
  size_t pod0 = 0;
  size_t pod1 = 0;

  explicit TwoPeers(const PeerOptions& o = {}) {
    net.add_peer(o);
    net.add_peer(o);
    pod0 = net.add_pod(0);
    pod1 = net.add_pod(1);
    net.start();
    net.connect(1, 0);
  }
  bool both(const std::string& overlay) {
    return net.overlay(0, 1) == overlay && net.overlay(1, 0) == overlay;
  }
  double sent(size_t i, const char* overlay) {
    return net.metric(i, "loom_dataplane_sent_frames_total", {{"overlay", overlay}});
  }
};

TEST(DataplaneFallback, BlockedVxlanMovesToSleeveWithinSixtySecondsAndBackWithinTen) {
  TwoPeers t;
  DataplaneNet& net = t.net;
  ASSERT_TRUE(net.run_until([&] { return net.converged() && t.both("fastdp"); }, 10s));
  net.world().run_for(25s);  // well into slow (10 s) heartbeats
  ASSERT_EQ(net.ping(t.pod0, t.pod1, 2), 2u);
  ASSERT_EQ(t.sent(0, "sleeve"), 0);

  const Time blocked = net.world().now();
  for (size_t i = 0; i < 2; ++i) net.world().set_udp_port_blocked(net.host_index(i), 6784, true);
  auto fell_back = net.run_until([&] { return t.both("sleeve"); }, blocked + 70s);
  ASSERT_TRUE(fell_back) << "still on " << net.overlay(0, 1);
  EXPECT_GT(*fell_back - blocked, 50s) << seconds(*fell_back - blocked);
  EXPECT_LE(*fell_back - blocked, 60s + kSlack) << seconds(*fell_back - blocked);
  EXPECT_TRUE(net.logged("timed out waiting for vxlan heartbeat; unhealthy"));
  // The mesh connection stays established; pods keep talking, over sleeve.
  EXPECT_EQ(net.mesh(0).status().connection_counts["established"], 1u);
  EXPECT_EQ(net.ping(t.pod0, t.pod1, 3), 3u);
  EXPECT_GE(t.sent(0, "sleeve"), 3);

  const Time unblocked = net.world().now();
  for (size_t i = 0; i < 2; ++i) net.world().set_udp_port_blocked(net.host_index(i), 6784, false);
  auto recovered = net.run_until([&] { return t.both("fastdp"); }, unblocked + 20s);
  ASSERT_TRUE(recovered) << "still on " << net.overlay(0, 1);
  EXPECT_LE(*recovered - unblocked, 10s + kSlack) << seconds(*recovered - unblocked);
  const double sleeve_before = t.sent(0, "sleeve");
  EXPECT_EQ(net.ping(t.pod0, t.pod1, 3), 3u);
  EXPECT_EQ(t.sent(0, "sleeve"), sleeve_before);
}

// VXLAN blocked from the start: fastdp never hears a heartbeat, the
// connection is established over sleeve at once, and fastdp gives up 60 s
// after confirm (Weave's HeartbeatTimeout), leaving sleeve.
TEST(DataplaneFallback, FastdpThatNeverHearsAHeartbeatFailsAfterSixtySeconds) {
  TwoPeers t;
  DataplaneNet& net = t.net;
  for (size_t i = 0; i < 2; ++i) net.world().set_udp_port_blocked(net.host_index(i), 6784, true);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 10s));
  const Time established = net.world().now();
  EXPECT_TRUE(t.both("sleeve"));
  EXPECT_EQ(net.ping(t.pod0, t.pod1, 2), 2u);
  auto failed = net.run_until([&] { return net.logged("timed out waiting for vxlan heartbeat"); },
                              established + 70s);
  ASSERT_TRUE(failed);
  EXPECT_GT(*failed - established, 55s);
  EXPECT_LE(*failed - established, 60s + kSlack);
  net.world().run_for(1s);
  EXPECT_TRUE(t.both("sleeve"));
  EXPECT_EQ(net.ping(t.pod0, t.pod1, 2), 2u);
  EXPECT_EQ(net.mesh(0).status().connection_counts["established"], 1u);
}

}  // namespace
}  // namespace loom::dataplane::testing
