// Pods on three hosts ping each other through the data plane, directly and
// through a relay; a broadcast reaches every host once.
#include <gtest/gtest.h>

#include "tests/dataplane/dataplane_test_net.h"

namespace loom::dataplane::testing {
namespace {

TEST(DataplanePing, PodsOnThreeHostsReachEachOtherOverFastdp) {
  DataplaneNet net;
  for (int i = 0; i < 3; ++i) net.add_peer();
  std::vector<size_t> pods;
  for (size_t i = 0; i < 3; ++i) pods.push_back(net.add_pod(i));
  net.start();
  net.connect(1, 0);
  net.connect(2, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 20s)) << "mesh did not converge";
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) {
      if (i == j) continue;
      EXPECT_EQ(net.overlay(i, j), "fastdp") << i << "->" << j;
    }
  }
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = 0; b < 3; ++b) {
      if (a == b) continue;
      EXPECT_EQ(net.ping(pods[a], pods[b], 3), 3u) << "pod " << a << " -> pod " << b;
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(net.metric(i, "loom_dataplane_sent_frames_total", {{"overlay", "fastdp"}}), 0);
    EXPECT_EQ(net.metric(i, "loom_dataplane_sent_frames_total", {{"overlay", "sleeve"}}), 0);
  }
}

// Peers 0 and 2 only know peer 1 (no discovery): every frame between their
// pods goes through peer 1, whose switch relays it without knowing the MACs.
TEST(DataplanePing, PodsWithoutADirectConnectionAreRelayed) {
  DataplaneNet net;
  PeerOptions o;
  o.mesh.discovery = false;
  for (int i = 0; i < 3; ++i) net.add_peer(o);
  const size_t pod0 = net.add_pod(0);
  const size_t pod2 = net.add_pod(2);
  net.start();
  net.connect(0, 1);
  net.connect(2, 1);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 20s)) << "mesh did not converge";
  ASSERT_EQ(net.mesh(0).connection_to(peer_name(2)), nullptr);
  EXPECT_EQ(net.mesh(0).routes().unicast(peer_name(2)), peer_name(1));

  EXPECT_EQ(net.ping(pod0, pod2, 5), 5u);
  EXPECT_EQ(net.ping(pod2, pod0, 5), 5u);
  // Ten echoes and ten replies (and the ARP reply) crossed peer 1.
  EXPECT_GE(net.metric(1, "loom_dataplane_relayed_frames_total"), 21);
  EXPECT_EQ(net.metric(1, "loom_dataplane_captured_frames_total"), 0);
}

bool is_arp_request_for(const Bytes& f, Ipv4 target) {
  return f.size() >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1 &&
         (uint32_t{f[38]} << 24 | uint32_t{f[39]} << 16 | uint32_t{f[40]} << 8 | f[41]) ==
             target.value;
}

// An ARP request from a pod follows the sender's broadcast tree: every other
// host injects it exactly once, the sender's host never.
TEST(DataplanePing, ArpBroadcastReachesEveryHostOnce) {
  DataplaneNet net;
  constexpr size_t kPeers = 5;
  for (size_t i = 0; i < kPeers; ++i) net.add_peer();
  std::vector<size_t> pods;
  for (size_t i = 0; i < kPeers; ++i) pods.push_back(net.add_pod(i));
  net.start();
  for (size_t i = 1; i < kPeers; ++i) net.connect(i, i - 1);  // a line; discovery fills it in
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 30s)) << "mesh did not converge";
  net.world().run_for(5s);  // let stale broadcast trees settle

  EXPECT_EQ(net.ping(pods[0], pods[kPeers - 1], 1), 1u);
  for (size_t i = 0; i < kPeers; ++i) {
    size_t seen = 0;
    for (const Bytes& f : net.tap(i).delivered) seen += is_arp_request_for(f, pod_ip(pods.back()));
    EXPECT_EQ(seen, i == 0 ? 0u : 1u) << "host " << i;
  }
}

}  // namespace
}  // namespace loom::dataplane::testing
