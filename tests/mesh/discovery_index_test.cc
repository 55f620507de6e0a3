#include "model/mesh/discovery_index.h"

#include <set>
#include <utility>

#include <gtest/gtest.h>

#include "model/random.h"
#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::encode_records;
using testing::P;
using testing::Record;

constexpr uint16_t kPort = 6783;
using Targets = std::set<std::pair<PeerName, Endpoint>>;

// What the connection maker derives by scanning every record of every peer
// but ours, as Weave does: each connection to a peer other than us, an
// inbound one at the mesh port.
Targets scanned(const Peers& peers) {
  Targets out;
  for (const Peer& p : peers.all()) {
    if (p.name == peers.ourselves()) continue;
    for (const PeerConnection& c : p.connections) {
      if (c.remote == peers.ourselves()) continue;
      out.emplace(c.remote, c.outbound ? c.address : Endpoint{c.address.addr, kPort});
    }
  }
  return out;
}

Targets indexed(const DiscoveryIndex& index) {
  Targets out;
  for (const KnownPeer& k : index.known_peers()) {
    for (const KnownConnection& c : k.connections) {
      EXPECT_TRUE(c.outbound) << "addresses come ready to dial";
      out.emplace(c.remote, c.address);
    }
  }
  return out;
}

TEST(DiscoveryIndex, GivesWhatAScanOfEveryRecordGives) {
  Peers peers(P(1), "us", 11);
  ASSERT_TRUE(peers.add_connection(P(2), Endpoint{Ipv4(2), kPort}, true, true));
  const PeerConnection inbound{P(4), Endpoint{Ipv4(0x0a000004), 40001}, false, true};
  auto merged = peers.merge(encode_records(
      {Record{P(2), 22, 1, {conn(1), conn(3), inbound}}, Record{P(3), 33, 1, {conn(2), conn(4)}}}));
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  DiscoveryIndex index(P(1), kPort);
  index.update(peers, merged->changed);

  const Targets expected{{P(3), Endpoint{Ipv4(0x0a000003), kPort}},
                         {P(4), Endpoint{Ipv4(0x0a000004), kPort}},  // 40001 was ephemeral
                         {P(2), Endpoint{Ipv4(0x0a000002), kPort}}};
  EXPECT_EQ(scanned(peers), expected);
  EXPECT_EQ(indexed(index), expected);
  EXPECT_EQ(index.size(), 3u);  // 4's address is reported twice, indexed once
}

// Random records replace one another, peers become unreachable and are
// collected: after every merge, the index and a full scan agree.
TEST(DiscoveryIndex, StaysEqualToAFullScanThroughRandomUpdatesAndGarbageCollection) {
  constexpr uint64_t kPeers = 12;
  Random random(7);
  Peers peers(P(1), "us", 11);
  ASSERT_TRUE(peers.add_connection(P(2), Endpoint{Ipv4(2), kPort}, true, true));
  DiscoveryIndex index(P(1), kPort);
  std::vector<uint64_t> version(kPeers + 1, 0);
  size_t removed = 0;
  for (int step = 0; step < 500; ++step) {
    const uint64_t who = 2 + random.below(kPeers - 1);
    Record r{P(who), 100 + who, ++version[who], {}};
    for (uint64_t other = 1; other <= kPeers; ++other) {
      if (other == who || !random.chance(0.3)) continue;
      PeerConnection c = conn(other, true, random.chance(0.5));
      if (random.chance(0.2)) c.address.port = static_cast<uint16_t>(40000 + random.below(100));
      r.connections.push_back(c);
    }
    auto merged = peers.merge(encode_records({r}));
    ASSERT_TRUE(merged.ok()) << merged.error().message;
    index.update(peers, merged->changed);
    index.update(peers, merged->removed);
    removed += merged->removed.size();
    ASSERT_EQ(indexed(index), scanned(peers)) << "step " << step;
  }
  EXPECT_GT(removed, 0u) << "the walk should have garbage-collected peers";
}

}  // namespace
}  // namespace loom::mesh
