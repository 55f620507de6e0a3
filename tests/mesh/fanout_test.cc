#include "model/mesh/fanout.h"

#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::make_topology;
using testing::P;
using testing::symmetric;

TEST(Fanout, PicksDistinctNeighboursNeverExceptAndIsDeterministic) {
  // Us (1) with neighbours 2..5; 2 leads to a long tail 10..19.
  std::vector<std::pair<uint64_t, uint64_t>> links{{1, 2}, {1, 3}, {1, 4}, {1, 5}, {2, 10}};
  for (uint64_t n = 10; n < 19; ++n) links.emplace_back(n, n + 1);
  Routes routes(make_topology(1, symmetric(links)));
  // 15 peers + us: 2·log2(15) = 7.8 -> 7, but only 4 neighbours.
  Random a(7), b(7);
  auto picked = random_neighbours(routes, kUnknownPeerName, a);
  EXPECT_EQ(picked, random_neighbours(routes, kUnknownPeerName, b));
  EXPECT_EQ(std::set<PeerName>(picked.begin(), picked.end()).size(), 4u);
  auto without = random_neighbours(routes, P(3), a);
  EXPECT_EQ(without.size(), 3u);
  for (PeerName n : without) EXPECT_NE(n, P(3));
}

TEST(Fanout, BottleneckNeighbourIsFavoured) {
  // 40 peers, 2·log2(41) = 10 > neighbours? Make many neighbours instead.
  std::vector<std::pair<uint64_t, uint64_t>> links;
  for (uint64_t n = 2; n <= 21; ++n) links.emplace_back(1, n);  // 20 leaves
  for (uint64_t n = 100; n < 160; ++n)
    links.emplace_back(n == 100 ? 2 : n - 1, n);  // 2: a tail of 60
  Routes routes(make_topology(1, symmetric(links)));
  Random random(1);
  std::map<PeerName, int> first;
  for (int i = 0; i < 500; ++i)
    first[random_neighbours(routes, kUnknownPeerName, random).front()]++;
  // Peer 2 weighs 61 of 80: it should come first most of the time.
  EXPECT_GT(first[P(2)], 300);
  EXPECT_EQ(random_neighbours(routes, kUnknownPeerName, random).size(), 12u);  // 2·log2(81)
}

}  // namespace
}  // namespace loom::mesh
