#include "model/random.h"

#include <algorithm>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace loom {
namespace {

std::vector<uint64_t> draw(Random r, int n) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(r.next());
  return out;
}

TEST(Random, SameSeedSameSequence) {
  EXPECT_EQ(draw(Random(42), 100), draw(Random(42), 100));
  EXPECT_NE(draw(Random(42), 100), draw(Random(43), 100));
}

TEST(Random, StreamsAreReproducibleAndDistinct) {
  EXPECT_EQ(draw(Random::stream(7, 3), 50), draw(Random::stream(7, 3), 50));
  EXPECT_NE(draw(Random::stream(7, 3), 50), draw(Random::stream(7, 4), 50));
  EXPECT_NE(draw(Random::stream(7, 3), 50), draw(Random::stream(8, 3), 50));
  // Neighbouring streams must not be shifted copies of each other.
  auto a = draw(Random::stream(1, 0), 64);
  auto b = draw(Random::stream(1, 1), 64);
  for (uint64_t x : a) EXPECT_EQ(std::count(b.begin(), b.end(), x), 0);
}

TEST(Random, KnownFirstValuesPinTheAlgorithm) {
  // Changing the generator changes every simulation result; this makes it a
  // deliberate act. Values from xoshiro256** seeded by splitmix64(0).
  Random r(0);
  EXPECT_EQ(r.next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(r.next(), 0xbf6e1f784956452aULL);
}

TEST(Random, BelowStaysInRangeAndCoversIt) {
  Random r(1);
  std::map<uint64_t, int> seen;
  for (int i = 0; i < 60000; ++i) {
    uint64_t v = r.below(6);
    ASSERT_LT(v, 6u);
    seen[v]++;
  }
  ASSERT_EQ(seen.size(), 6u);
  for (auto& [v, n] : seen) EXPECT_NEAR(n, 10000, 600) << v;
  EXPECT_EQ(r.below(0), 0u);
  EXPECT_EQ(r.below(1), 0u);
}

TEST(Random, BetweenIsInclusiveAndUnitIsHalfOpen) {
  Random r(2);
  bool lo = false, hi = false;
  for (int i = 0; i < 10000; ++i) {
    int64_t v = r.between(-3, 3);
    ASSERT_GE(v, -3);
    ASSERT_LE(v, 3);
    lo |= v == -3;
    hi |= v == 3;
    double u = r.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  EXPECT_TRUE(lo && hi);
  EXPECT_EQ(r.between(5, 5), 5);
}

}  // namespace
}  // namespace loom
