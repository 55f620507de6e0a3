#include "model/ipam/range_set.h"

#include <set>

#include <gtest/gtest.h>

#include "model/random.h"

namespace loom::ipam {
namespace {

TEST(RangeSet, AddCoalescesTouchingAndOverlappingIntervals) {
  RangeSet s;
  s.add({10, 20});
  s.add({30, 40});
  EXPECT_EQ(s.interval_count(), 2u);
  s.add({20, 30});  // touches both
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{10, 40}}));
  s.add({5, 12});
  s.add({38, 50});
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{5, 50}}));
  EXPECT_EQ(s.count(), 45u);
}

TEST(RangeSet, SubtractSplitsAndTrims) {
  RangeSet s;
  s.add({0, 100});
  s.subtract({10, 20});
  s.subtract({95, 200});
  s.subtract({0, 1});
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{1, 10}, {20, 95}}));
  EXPECT_EQ(s.count(), 84u);
  s.subtract({5, 30});
  EXPECT_EQ(s.ranges(), (std::vector<Range>{{1, 5}, {30, 95}}));
  EXPECT_TRUE(s.contains(4));
  EXPECT_FALSE(s.contains(5));
  EXPECT_EQ(s.count_in({0, 40}), 14u);
  Address first = 0;
  ASSERT_TRUE(s.first_in({6, 100}, &first));
  EXPECT_EQ(first, 30u);
  EXPECT_FALSE(s.first_in({5, 30}, &first));
}

// Against a plain std::set of addresses, over random operations.
TEST(RangeSet, AgreesWithASetOfAddresses) {
  Random random(7);
  RangeSet s;
  std::set<Address> model;
  for (int step = 0; step < 4000; ++step) {
    const auto a = static_cast<Address>(random.below(300));
    const auto b = static_cast<Address>(a + random.below(20));
    if (random.chance(0.5)) {
      s.add({a, b});
      for (Address x = a; x < b; ++x) model.insert(x);
    } else {
      s.subtract({a, b});
      for (Address x = a; x < b; ++x) model.erase(x);
    }
    ASSERT_EQ(s.count(), model.size());
    const auto probe = static_cast<Address>(random.below(330));
    ASSERT_EQ(s.contains(probe), model.count(probe) == 1);
  }
  // Intervals are disjoint and never touch.
  const auto ranges = s.ranges();
  for (size_t i = 1; i < ranges.size(); ++i) EXPECT_LT(ranges[i - 1].end, ranges[i].start);
}

}  // namespace
}  // namespace loom::ipam
