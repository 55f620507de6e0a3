// What the mesh tells the data plane (weave-protocol.md 1.10, 3.6): the
// Overlays feature in the handshake, route changes (flows flushed), and
// garbage-collected peers (their MACs forgotten at once, not after the
// ten-minute MAC age).
#include <gtest/gtest.h>

#include "tests/dataplane/dataplane_test_net.h"

namespace loom::dataplane::testing {
namespace {

TEST(DataplaneMeshHooks, TheHandshakeCarriesOurOverlays) {
  DataplaneNet net;
  PeerOptions sleeve_only;
  sleeve_only.dataplane.overlays = {"sleeve"};
  net.add_peer();
  net.add_peer(sleeve_only);
  net.start();
  net.connect(0, 1);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 20s)) << "mesh did not converge";
  // Peer 0 offers fastdp too, but peer 1's handshake said "sleeve" alone.
  EXPECT_EQ(net.overlay(0, 1), "sleeve");
  EXPECT_EQ(net.overlay(1, 0), "sleeve");
}

TEST(DataplaneMeshHooks, ADeadPeersMacsGoWhenItIsCollectedAndRouteChangesFlushFlows) {
  DataplaneNet net;
  for (int i = 0; i < 3; ++i) net.add_peer();
  std::vector<size_t> pods;
  for (size_t i = 0; i < 3; ++i) pods.push_back(net.add_pod(i));
  net.start();
  net.connect(1, 0);
  net.connect(2, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 20s)) << "mesh did not converge";
  ASSERT_EQ(net.ping(pods[0], pods[2], 3), 3u);
  ASSERT_EQ(net.ping(pods[0], pods[1], 3), 3u);

  const auto macs_of = [&](size_t at, size_t peer) {
    size_t n = 0;
    for (const auto& e : net.plane(at).macs().entries()) n += e.peer == peer_name(peer) ? 1 : 0;
    return n;
  };
  ASSERT_GE(macs_of(0, 2), 1u);
  ASSERT_GE(macs_of(0, 1), 1u);
  ASSERT_GT(net.plane(0).flow_count(), 0u);

  const Time killed = net.world().now();
  net.kill(2);
  // Peer 2's connections end at once; it is collected a round later, and
  // with it go its MACs (Weave: Peers.OnGC -> Macs.Delete) and the flows
  // (routes and short IDs changed: either flushes them), long before the 10-minute MAC age or the
  // 5-minute flow expiry would have removed them.
  auto gone = net.run_until([&] { return macs_of(0, 2) == 0 && macs_of(1, 2) == 0; }, killed + 5s);
  ASSERT_TRUE(gone.has_value()) << "peer 2's MACs are still bound";
  EXPECT_TRUE(net.logged("Removed unreachable peer " + peer_name(2).to_string()));
  EXPECT_EQ(net.plane(0).flow_count(), 0u);
  EXPECT_GE(macs_of(0, 1), 1u) << "a live peer's MACs stay";
  EXPECT_EQ(net.ping(pods[0], pods[1], 3), 3u);
}

}  // namespace
}  // namespace loom::dataplane::testing
