#include "model/mesh/routes.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::make_topology;
using testing::P;
using testing::symmetric;
using Edges = std::map<uint64_t, std::vector<PeerConnection>>;

std::optional<PeerName> hop(uint64_t n) { return P(n); }

TEST(Routes, ChainGoesThroughTheNextPeer) {
  Peers peers = make_topology(1, symmetric({{1, 2}, {2, 3}, {3, 4}}));
  Routes routes(peers);
  EXPECT_EQ(routes.unicast(P(2)), hop(2));
  EXPECT_EQ(routes.unicast(P(3)), hop(2));
  EXPECT_EQ(routes.unicast(P(4)), hop(2));
  EXPECT_EQ(routes.unicast(P(1)), std::nullopt);
  EXPECT_EQ(routes.unicast(P(77)), std::nullopt);
}

TEST(Routes, RingTiesBreakByLowestName) {
  // 1-2-3-4-1 plus 1-5, 5-3: 3 is two hops via 2, 4 or 5; 2 wins.
  Peers peers = make_topology(1, symmetric({{1, 2}, {2, 3}, {3, 4}, {4, 1}, {1, 5}, {5, 3}}));
  Routes routes(peers);
  EXPECT_EQ(routes.unicast(P(3)), hop(2));
  EXPECT_EQ(routes.unicast(P(4)), hop(4));
  // From 3's side: 1 is reached via 2 (lowest of 2, 4, 5).
  Peers from3 = make_topology(3, symmetric({{1, 2}, {2, 3}, {3, 4}, {4, 1}, {1, 5}, {5, 3}}));
  EXPECT_EQ(Routes(from3).unicast(P(1)), hop(2));
}

TEST(Routes, LevelOrderNotDiscoveryOrderDecides) {
  // Level 1: 2 and 9. 9 reaches 5 and 2 reaches 6; level 2 sorted is 5, 6.
  // 7 hangs off both 5 and 6: Weave takes it from 5 (first of the sorted
  // level), so via 9, although 6 was discovered first (via 2).
  Peers peers = make_topology(1, symmetric({{1, 2}, {1, 9}, {2, 6}, {9, 5}, {5, 7}, {6, 7}}));
  Routes routes(peers);
  EXPECT_EQ(routes.unicast(P(7)), hop(9));
  EXPECT_EQ(routes.unicast(P(6)), hop(2));
}

TEST(Routes, StarAndFullMesh) {
  Peers star = make_topology(5, symmetric({{5, 1}, {5, 2}, {5, 3}, {5, 4}}));
  Routes s(star);
  for (uint64_t n = 1; n <= 4; ++n) EXPECT_EQ(s.unicast(P(n)), hop(n));
  Peers leaf = make_topology(1, symmetric({{5, 1}, {5, 2}, {5, 3}, {5, 4}}));
  Routes l(leaf);
  for (uint64_t n = 2; n <= 5; ++n) EXPECT_EQ(l.unicast(P(n)), hop(5));

  std::vector<std::pair<uint64_t, uint64_t>> links;
  for (uint64_t a = 1; a <= 6; ++a)
    for (uint64_t b = a + 1; b <= 6; ++b) links.emplace_back(a, b);
  Routes full(make_topology(3, symmetric(links)));
  for (uint64_t n = 1; n <= 6; ++n) {
    if (n != 3) {
      EXPECT_EQ(full.unicast(P(n)), hop(n));
    }
  }
}

TEST(Routes, AsymmetricAndUnestablishedOnlyInUnicastAll) {
  Edges edges;
  edges[1] = {conn(2), conn(3, /*established=*/false)};
  edges[2] = {conn(1), conn(4)};  // 4 does not list 2: asymmetric
  edges[3] = {conn(1)};
  edges[4] = {};
  Routes routes(make_topology(1, edges));
  EXPECT_EQ(routes.unicast(P(2)), hop(2));
  EXPECT_EQ(routes.unicast(P(3)), std::nullopt);
  EXPECT_EQ(routes.unicast(P(4)), std::nullopt);
  EXPECT_EQ(routes.unicast_all(P(3)), hop(3));
  EXPECT_EQ(routes.unicast_all(P(4)), hop(2));
  EXPECT_EQ(routes.broadcast(P(1)), std::vector<PeerName>{P(2)});
  EXPECT_EQ(routes.broadcast_all(P(1)), (std::vector<PeerName>{P(2), P(3)}));
}

// Simulates a broadcast from src: each peer that receives it passes it to
// its broadcast next hops for src (each computing on its own copy of the
// same topology). Returns how many times each peer received it.
std::map<PeerName, int> flood(const Edges& edges, uint64_t src, Routes::Over over) {
  std::map<PeerName, Routes> routes;
  for (const auto& [name, conns] : edges)
    routes.emplace(P(name), Routes(make_topology(name, edges)));
  std::map<PeerName, int> received;
  std::vector<PeerName> queue{P(src)};
  received[P(src)] = 1;
  for (size_t head = 0; head < queue.size(); ++head) {
    for (PeerName next : routes.at(queue[head]).broadcast(over, P(src))) {
      if (received[next]++ == 0) queue.push_back(next);
    }
  }
  return received;
}

void expect_exactly_once(const Edges& edges, Routes::Over over) {
  for (const auto& [src, conns] : edges) {
    auto received = flood(edges, src, over);
    for (const auto& [name, c] : edges) {
      EXPECT_EQ(received[P(name)], 1) << "source " << src << " peer " << name;
    }
  }
}

TEST(Routes, BroadcastReachesEveryPeerExactlyOnce) {
  expect_exactly_once(symmetric({{1, 2}, {2, 3}, {3, 4}, {4, 5}}),
                      Routes::Over::established_symmetric);
  expect_exactly_once(symmetric({{1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 1}}),
                      Routes::Over::established_symmetric);
  expect_exactly_once(symmetric({{1, 2}, {1, 9}, {2, 6}, {9, 5}, {5, 7}, {6, 7}, {2, 9}, {6, 3}}),
                      Routes::Over::established_symmetric);
  std::vector<std::pair<uint64_t, uint64_t>> links;
  for (uint64_t a = 1; a <= 7; ++a)
    for (uint64_t b = a + 1; b <= 7; ++b) links.emplace_back(a, b);
  expect_exactly_once(symmetric(links), Routes::Over::established_symmetric);
  expect_exactly_once(symmetric(links), Routes::Over::all_connections);
  // A grid: many equal-length paths.
  std::vector<std::pair<uint64_t, uint64_t>> grid;
  for (uint64_t r = 0; r < 4; ++r)
    for (uint64_t c = 0; c < 4; ++c) {
      const uint64_t n = 1 + r * 4 + c;
      if (c < 3) grid.emplace_back(n, n + 1);
      if (r < 3) grid.emplace_back(n, n + 4);
    }
  expect_exactly_once(symmetric(grid), Routes::Over::established_symmetric);
  expect_exactly_once(symmetric(grid), Routes::Over::all_connections);
}

TEST(Routes, BroadcastFromUnknownOrUnreachableSourceGoesNowhere) {
  Routes routes(make_topology(1, symmetric({{1, 2}})));
  EXPECT_TRUE(routes.broadcast(P(42)).empty());
}

}  // namespace
}  // namespace loom::mesh
