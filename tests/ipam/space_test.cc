#include "model/ipam/space.h"

#include <gtest/gtest.h>

#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::dot;
using testing::kUniverse;

// A space owning the whole /24, with `allocated` addresses in use.
Space space_with(std::initializer_list<Range> allocated) {
  Space s;
  s.add(kUniverse);
  for (const Range& r : allocated) {
    for (Address a = r.start; a < r.end; ++a) EXPECT_TRUE(s.claim(a).ok());
  }
  return s;
}

TEST(Space, AllocatesTheLowestFreeAddressInTheRange) {
  Space s = space_with({});
  EXPECT_EQ(s.allocate(Range{dot(1), dot(255)}), dot(1));
  EXPECT_EQ(s.allocate(Range{dot(1), dot(255)}), dot(2));
  EXPECT_EQ(s.allocate(Range{dot(100), dot(101)}), dot(100));
  EXPECT_EQ(s.allocate(Range{dot(100), dot(101)}), std::nullopt);  // that one is taken
  ASSERT_TRUE(s.free(dot(1)).ok());
  EXPECT_EQ(s.allocate(Range{dot(1), dot(255)}), dot(1));  // freed addresses come back first
  EXPECT_EQ(s.num_allocated(), 3u);
  EXPECT_EQ(s.num_free(), 253u);
}

TEST(Space, NothingToAllocateOutsideWhatWeOwn) {
  Space s;
  s.add(Range{dot(10), dot(12)});
  EXPECT_EQ(s.allocate(Range{dot(0), dot(10)}), std::nullopt);
  EXPECT_EQ(s.allocate(Range{dot(0), dot(20)}), dot(10));
  EXPECT_EQ(s.allocate(Range{dot(0), dot(20)}), dot(11));
  EXPECT_EQ(s.allocate(Range{dot(0), dot(20)}), std::nullopt);
}

TEST(Space, ClaimAndFreeCheckTheAddress) {
  Space s = space_with({});
  ASSERT_TRUE(s.claim(dot(5)).ok());
  const auto again = s.claim(dot(5));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "Address 10.0.0.5 is not free to claim");
  EXPECT_FALSE(Space().claim(dot(5)).ok());  // not ours at all

  ASSERT_TRUE(s.free(dot(5)).ok());
  const auto twice = s.free(dot(5));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "Address 10.0.0.5 is not ours");
  EXPECT_EQ(s.num_free(), 256u);
}

TEST(Space, DonatesTheUpperHalfWhenTheBlockIsMoreThanHalfOurFreeSpace) {
  Space s = space_with({});
  EXPECT_EQ(s.donate(kUniverse), (Range{dot(128), kUniverse.end}));
  EXPECT_EQ(s.num_free(), 128u);
  EXPECT_EQ(s.donate(kUniverse), (Range{dot(64), dot(128)}));
  EXPECT_EQ(s.owned_ranges(), (std::vector<Range>{{dot(0), dot(64)}}));
}

TEST(Space, DonatesAWholeBlockWhenItIsNoMoreThanHalf) {
  // Three free chunks of 16: the last of equal chunks is chosen, and 16 is
  // not more than half of 48, so all of it goes.
  Space s = space_with({{dot(16), dot(32)}, {dot(48), dot(64)}, {dot(80), kUniverse.end}});
  EXPECT_EQ(s.num_free_in(kUniverse), 48u);
  EXPECT_EQ(s.donate(kUniverse), (Range{dot(64), dot(80)}));
  EXPECT_EQ(s.num_free(), 32u);
}

TEST(Space, DonatesTheLargestAlignedBlockOfTheBiggestChunk) {
  // Free: [.3, .13) (10 addresses) and [.20, .22) (2). The biggest chunk's
  // largest aligned block is [.4, .8); 4 is not more than half of 12.
  Space s;
  s.add(Range{dot(3), dot(13)});
  s.add(Range{dot(20), dot(22)});
  EXPECT_EQ(s.donate(kUniverse), (Range{dot(4), dot(8)}));
  EXPECT_EQ(s.free_space().ranges(),
            (std::vector<Range>{{dot(3), dot(4)}, {dot(8), dot(13)}, {dot(20), dot(22)}}));
}

TEST(Space, DonationIsNeverEmptyAndStaysInTheRange) {
  Space s;
  s.add(Range{dot(7), dot(8)});
  EXPECT_EQ(s.donate(kUniverse), (Range{dot(7), dot(8)}));  // the last address goes
  EXPECT_EQ(s.donate(kUniverse), std::nullopt);

  Space t;
  t.add(Range{dot(8), dot(10)});
  EXPECT_EQ(t.donate(kUniverse), (Range{dot(9), dot(10)}));  // half of 2 is 1

  Space u = space_with({});
  EXPECT_EQ(u.donate(Range{dot(200), dot(210)}), (Range{dot(204), dot(208)}));
  EXPECT_EQ(u.donate(Range{dot(1), dot(1)}), std::nullopt);
}

TEST(Space, UpdateRangesAddsNewlyOwnedSpaceAndNeverRemoves) {
  Space s;
  s.add(Range{dot(0), dot(64)});
  ASSERT_TRUE(s.claim(dot(3)).ok());
  s.update_ranges({{dot(0), dot(64)}, {dot(128), dot(192)}});
  EXPECT_EQ(s.owned_ranges(), (std::vector<Range>{{dot(0), dot(64)}, {dot(128), dot(192)}}));
  EXPECT_EQ(s.num_allocated(), 1u);  // the allocation stays
  EXPECT_EQ(s.num_free(), 127u);
  s.update_ranges({{dot(128), dot(192)}});  // as Weave: what we lost stays
  EXPECT_EQ(s.num_free(), 127u);
}

TEST(Space, TellsMergeWhereAllocationsAre) {
  Space s = space_with({{dot(70), dot(71)}});
  EXPECT_TRUE(s.has_allocations_in({{dot(64), dot(128)}}));
  EXPECT_FALSE(s.has_allocations_in({{dot(0), dot(70)}, {dot(71), dot(128)}}));
  EXPECT_FALSE(s.has_allocations_in({}));
}

TEST(Space, FreeCountsPerRangeFeedTheRingsReport) {
  Space s = space_with({{dot(0), dot(10)}, {dot(200), dot(201)}});
  Ring ring(kUniverse, testing::P(1));
  ASSERT_TRUE(ring.claim_for_peers({testing::P(1)}).ok());
  ASSERT_TRUE(ring.grant_range_to_host(dot(100), dot(150), testing::P(2)).ok());
  const auto owned = ring.owned_ranges();
  EXPECT_EQ(owned, (std::vector<Range>{{dot(0), dot(100)}, {dot(150), kUniverse.end}}));
  const auto free = s.free_in_each(owned);
  EXPECT_EQ(free, (std::map<Address, Count>{{dot(0), 90}, {dot(150), 105}}));
  ASSERT_TRUE(ring.report_free(free).ok());
  EXPECT_EQ(ring.entries().front().free, 90u);
}

TEST(Space, PrintsLikeWeave) {
  EXPECT_EQ(Space().to_string(), "No address ranges owned");
  Space s;
  s.add(Range{dot(0), dot(8)});
  ASSERT_TRUE(s.claim(dot(0)).ok());
  EXPECT_EQ(s.to_string(), "owned: 10.0.0.0+1 free: 10.0.0.1+7");
}

TEST(Space, AMillionAddressesCostAFewIntervals) {
  const Range universe = parse_allocation_range("10.32.0.0/12")->range();
  Space s;
  s.add(universe);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(s.allocate(universe).has_value());
  EXPECT_EQ(s.allocated().interval_count(), 1u);
  EXPECT_EQ(s.free_space().interval_count(), 1u);
  for (Address a = universe.start; a < universe.start + 100000; a += 2) {
    ASSERT_TRUE(s.free(a).ok());
  }
  EXPECT_EQ(s.num_allocated(), 50000u);
  EXPECT_EQ(s.num_free(), universe.size() - 50000u);
}

}  // namespace
}  // namespace loom::ipam
