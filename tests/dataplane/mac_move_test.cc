// A pod moves to another host with its MAC (sim::World::move_pod). Weave's
// MAC cache refuses a captured frame whose MAC it has bound to another
// peer, so the moved pod is cut off at its new host until that stale entry
// ages out (10 minutes after it was last seen, swept every minute); then the
// move is learnt everywhere, logged as Weave logs it, and the pod talks.
// Peer 2 talks with the pod for over a minute first, so that its entry is
// fresher (refreshed once a minute) and still there to be moved.
#include <gtest/gtest.h>

#include "tests/dataplane/dataplane_test_net.h"

namespace loom::dataplane::testing {
namespace {

TEST(DataplaneMacMove, MovedPodIsRefusedUntilTheStaleEntryExpiresThenLearnt) {
  DataplaneNet net;
  for (int i = 0; i < 3; ++i) net.add_peer();
  const size_t a = net.add_pod(0);
  const size_t c = net.add_pod(2);
  net.start();
  net.connect(1, 0);
  net.connect(2, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 20s));

  // a's ARP broadcast: every peer learns a's MAC at peer 0.
  ASSERT_EQ(net.ping(a, c, 75, 1s), 75u);
  const auto local = net.plane(0).macs().entries();
  ASSERT_EQ(local.size(), 2u);
  std::string mac_a;
  for (const auto& e : local) {
    if (e.peer == peer_name(0)) mac_a = e.mac.to_string();
  }
  ASSERT_FALSE(mac_a.empty());
  const auto learnt = net.log_times("peer1 dataplane info: Discovered remote MAC " + mac_a);
  ASSERT_EQ(learnt.size(), 1u);

  net.world().move_pod(a, net.host_index(1));
  EXPECT_EQ(net.ping(a, c, 3), 0u);
  EXPECT_TRUE(net.logged("peer1 dataplane error: Captured frame from MAC (" + mac_a +
                         ") associated with another peer " + peer_name(0).to_string()));
  EXPECT_GE(net.dropped(1, Drop::kMacConflict), 3);

  // Peer 1 last saw a at peer 0 when the broadcast came; 10 minutes later
  // (plus at most a minute's sweep) the entry is gone.
  auto expired = net.run_until(
      [&] { return net.logged("peer1 dataplane info: Expired MAC " + mac_a); }, 12min, 1s);
  ASSERT_TRUE(expired);
  EXPECT_GT(*expired - learnt[0], 10min);
  EXPECT_LE(*expired - learnt[0], 11min + 1s);

  EXPECT_EQ(net.ping(a, c, 3), 3u);
  EXPECT_TRUE(net.logged("peer2 dataplane info: Discovered remote MAC " + mac_a + " at " +
                         peer_name(1).to_string() + " (was at " + peer_name(0).to_string() + ")"));
  EXPECT_EQ(net.metric(2, "loom_dataplane_mac_moves_total"), 1);
  EXPECT_EQ(net.plane(2).macs().lookup(*wire::MacAddress::parse(mac_a)), peer_name(1));
  EXPECT_EQ(net.ping(c, a, 3), 3u);
}

}  // namespace
}  // namespace loom::dataplane::testing
