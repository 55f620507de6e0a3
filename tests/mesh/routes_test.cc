#include "model/mesh/routes.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "model/random.h"
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

// --- Differential test: Routes against a plain transcription of Weave's
// Peer.routes and calculateBroadcast (weave-protocol.md 1.6): level by
// level, each worklist sorted by name, a peer reached from the first peer of
// the previous level that connects to it, the search stopping when it takes
// `stop_at` off its worklist.
struct Reference {
  const Peers& peers;

  // Weave's forEachConnectedPeer: cur's connections (to peers we know),
  // established on both sides when symmetric.
  std::vector<PeerName> connected(PeerName cur, bool symmetric) const {
    std::vector<PeerName> out;
    const Peer* p = peers.find(cur);
    for (const PeerConnection& c : p->connections) {
      const Peer* remote = peers.find(c.remote);
      if (remote == nullptr) continue;
      if (symmetric) {
        if (!c.established) continue;
        const PeerConnection* back = remote->connection(cur);
        if (back == nullptr || !back->established) continue;
      }
      out.push_back(c.remote);
    }
    return out;
  }

  // (found stop_at, destination -> next hop; start -> unknown).
  std::pair<bool, std::map<PeerName, PeerName>> routes(PeerName start,
                                                       std::optional<PeerName> stop_at,
                                                       bool symmetric) const {
    std::map<PeerName, PeerName> hops{{start, kUnknownPeerName}};
    std::vector<PeerName> next{start};
    while (!next.empty()) {
      std::vector<PeerName> work = std::move(next);
      next.clear();
      std::sort(work.begin(), work.end());
      for (PeerName cur : work) {
        if (stop_at && cur == *stop_at) return {true, hops};
        for (PeerName remote : connected(cur, symmetric)) {
          if (hops.count(remote) != 0) continue;
          next.push_back(remote);
          hops[remote] = cur == start ? remote : hops.at(cur);
        }
      }
    }
    return {false, hops};
  }

  std::vector<PeerName> broadcast(PeerName src, bool symmetric) const {
    std::vector<PeerName> hops;
    if (peers.find(src) == nullptr) return hops;
    auto [found, reached] = routes(src, peers.ourselves(), symmetric);
    if (!found) return hops;
    for (PeerName n : connected(peers.ourselves(), symmetric)) {
      if (reached.count(n) == 0) hops.push_back(n);
    }
    std::sort(hops.begin(), hops.end());
    return hops;
  }
};

// A random topology over `size` peers with random names (some connections
// to peers without a record, a few to themselves), seen by one of them.
Peers random_topology(Random& random, size_t size) {
  std::set<uint64_t> names;
  while (names.size() < size) names.insert(1 + random.below(4 * size + 8));
  const std::vector<uint64_t> list(names.begin(), names.end());
  const double density = random.unit();
  const double established = random.chance(0.3) ? 1.0 : random.unit();
  const double symmetric = random.unit();
  Edges edges;
  for (uint64_t n : list) edges[n];
  for (size_t a = 0; a < list.size(); ++a) {
    for (size_t b = a + 1; b < list.size(); ++b) {
      if (!random.chance(density * density)) continue;
      const bool both = random.chance(symmetric);
      const bool forward = both || random.chance(0.5);
      if (forward) edges[list[a]].push_back(conn(list[b], random.chance(established)));
      if (!forward || both) edges[list[b]].push_back(conn(list[a], random.chance(established)));
    }
    if (random.chance(0.02)) edges[list[a]].push_back(conn(list[a]));
    if (random.chance(0.05)) edges[list[a]].push_back(conn(4 * size + 9 + random.below(5)));
  }
  for (auto& [name, conns] : edges) {
    std::sort(conns.begin(), conns.end(),
              [](const PeerConnection& x, const PeerConnection& y) { return x.remote < y.remote; });
    conns.erase(std::unique(conns.begin(), conns.end(),
                            [](const PeerConnection& x, const PeerConnection& y) {
                              return x.remote == y.remote;
                            }),
                conns.end());
  }
  const uint64_t us = list[random.below(list.size())];
  edges[us].erase(std::remove_if(edges[us].begin(), edges[us].end(),
                                 [&](const PeerConnection& c) { return c.remote == P(us); }),
                  edges[us].end());
  return make_topology(us, edges);
}

std::optional<PeerName> reference_hop(const std::map<PeerName, PeerName>& hops, PeerName dst,
                                      PeerName us) {
  auto it = hops.find(dst);
  if (it == hops.end() || dst == us) return std::nullopt;
  return it->second;
}

TEST(Routes, MatchesAPlainTranscriptionOfWeaveOnRandomTopologies) {
  Random random(20240611);
  for (int round = 0; round < 600; ++round) {
    const size_t size = 1 + random.below(60);
    const Peers peers = random_topology(random, size);
    const Reference ref{peers};
    const PeerName us = peers.ourselves();
    Routes routes(peers);
    SCOPED_TRACE("round " + std::to_string(round) + ", " + std::to_string(peers.size()) +
                 " peers, us " + std::to_string(us.value));

    std::vector<PeerName> names;
    for (const Peer& p : peers.all()) names.push_back(p.name);
    ASSERT_EQ(routes.peers(), names);
    ASSERT_EQ(routes.ourselves(), us);

    for (const bool symmetric : {true, false}) {
      const auto over =
          symmetric ? Routes::Over::established_symmetric : Routes::Over::all_connections;
      const auto hops = ref.routes(us, std::nullopt, symmetric).second;
      std::vector<std::pair<PeerName, PeerName>> table;
      for (const auto& [dst, hop] : hops) {
        if (dst != us) table.emplace_back(dst, hop);
      }
      ASSERT_EQ(routes.table(over), table) << "symmetric " << symmetric;
      for (const PeerName dst : {names[random.below(names.size())], P(0x7fffffff), us}) {
        const auto expected = reference_hop(hops, dst, us);
        ASSERT_EQ(routes.next_hop(over, dst), expected);
        ASSERT_EQ(symmetric ? routes.unicast(dst) : routes.unicast_all(dst), expected);
      }
    }

    // Every source, in a random order, each asked twice (the second from
    // the cache), and a source nobody knows.
    std::vector<PeerName> sources = names;
    sources.push_back(P(0x7fffffff));
    std::shuffle(sources.begin(), sources.end(), random);
    for (int pass = 0; pass < 2; ++pass) {
      for (PeerName src : sources) {
        ASSERT_EQ(routes.broadcast(src), ref.broadcast(src, true)) << "source " << src.value;
        ASSERT_EQ(routes.broadcast_all(src), ref.broadcast(src, false)) << "source " << src.value;
      }
    }
  }
}

TEST(Routes, BroadcastFromUnknownOrUnreachableSourceGoesNowhere) {
  Routes routes(make_topology(1, symmetric({{1, 2}})));
  EXPECT_TRUE(routes.broadcast(P(42)).empty());
}

}  // namespace
}  // namespace loom::mesh
