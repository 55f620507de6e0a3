// MacCache: Weave's MAC -> peer table, its conflict rules and its ageing.
#include "model/dataplane/mac_cache.h"

#include <gtest/gtest.h>

namespace loom::dataplane {
namespace {

using namespace std::chrono_literals;

const wire::MacAddress kMac = *wire::MacAddress::parse("02:00:00:00:00:01");
const PeerName kUs(1);
const PeerName kThem(2);

TEST(MacCache, CapturedMacBoundElsewhereIsAConflictAndUnchanged) {
  MacCache cache;
  EXPECT_TRUE(cache.add_forced(kMac, kThem, Time(0)).added);
  const auto learnt = cache.add(kMac, kUs, Time(1s));
  EXPECT_FALSE(learnt.added);
  EXPECT_EQ(learnt.conflict, kThem);
  EXPECT_EQ(cache.lookup(kMac), kThem);
}

TEST(MacCache, ForcedAddMovesTheMacAndSaysFromWhere) {
  MacCache cache;
  cache.add(kMac, kUs, Time(0));
  const auto learnt = cache.add_forced(kMac, kThem, Time(1s));
  EXPECT_FALSE(learnt.added);
  EXPECT_EQ(learnt.conflict, kUs);
  EXPECT_EQ(cache.lookup(kMac), kThem);
}

TEST(MacCache, EntriesExpireTenMinutesAfterLastSeenRefreshedAtMostEveryMinute) {
  MacCache cache(10min);
  cache.add(kMac, kUs, Time(0));
  cache.add(kMac, kUs, Time(30s));  // within a tenth of max age: not refreshed
  EXPECT_TRUE(cache.expire(Time(10min + 1s)).size() == 1);
  EXPECT_FALSE(cache.lookup(kMac));

  cache.add(kMac, kUs, Time(0));
  cache.add(kMac, kUs, Time(90s));  // refreshed
  EXPECT_TRUE(cache.expire(Time(10min + 1s)).empty());
  EXPECT_EQ(cache.lookup(kMac), kUs);
  const auto gone = cache.expire(Time(11min + 31s));
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].mac, kMac);
}

TEST(MacCache, RemovePeerForgetsItsMacs) {
  MacCache cache;
  cache.add_forced(kMac, kThem, Time(0));
  cache.add(*wire::MacAddress::parse("02:00:00:00:00:02"), kUs, Time(0));
  EXPECT_EQ(cache.remove_peer(kThem), 1u);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace loom::dataplane
