// Ring::merge, one test per rule of weave-protocol.md 2.4 (Weave's
// Ring.Merge and entries.merge), with hand-built rings on 10.0.0.0/24.
// We are P(1) throughout; every refused merge must leave our ring as it was.
#include <gtest/gtest.h>

#include "model/ipam/ring.h"
#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::allocations_everywhere;
using testing::dot;
using testing::E;
using testing::kUniverse;
using testing::no_allocations;
using testing::P;
using testing::ring_of;

const Address kEnd = kUniverse.end;

// Merges and expects a refusal of the given kind and message, with our ring
// untouched.
void expect_refused(Ring& ours, const Ring& theirs, const Ring::HasAllocations& has,
                    MergeError kind, const std::string& message) {
  const std::vector<Entry> entries = ours.entries();
  const std::vector<PeerName> seeds = ours.seeds();
  MergeError why{};
  const auto r = ours.merge(theirs, has, &why);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, message);
  EXPECT_EQ(why, kind);
  EXPECT_EQ(ours.entries(), entries);
  EXPECT_EQ(ours.seeds(), seeds);
}

bool merged(Ring& ours, const Ring& theirs, const Ring::HasAllocations& has = no_allocations) {
  const auto r = ours.merge(theirs, has);
  EXPECT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(ours.check_invariants().ok());
  return r.ok() && *r;
}

// Records which ranges merge asked about.
struct AllocationProbe {
  explicit AllocationProbe(bool a) : answer(a) {}
  bool answer;
  std::vector<std::vector<Range>> asked;
  Ring::HasAllocations fn() {
    return [this](const std::vector<Range>& r) {
      asked.push_back(r);
      return answer;
    };
  }
};

// --- Preconditions ---------------------------------------------------------

TEST(RingMerge, Seeds_AnEmptySeedListAdoptsTheirs) {
  Ring ours(kUniverse, P(1));
  Ring theirs = ring_of(P(2), {E(dot(0), P(2), 0, 256)}, {P(2)});
  EXPECT_TRUE(merged(ours, theirs));
  EXPECT_EQ(ours.seeds(), (std::vector<PeerName>{P(2)}));
  EXPECT_EQ(ours.entries(), theirs.entries());
}

TEST(RingMerge, Seeds_TheirEmptySeedListLeavesOursAlone) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 256)}, {P(1)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(1), 0, 256)});
  EXPECT_FALSE(merged(ours, theirs));
  EXPECT_EQ(ours.seeds(), (std::vector<PeerName>{P(1)}));
}

TEST(RingMerge, Seeds_DifferentSeedListsNeverMerge) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 256)}, {P(1)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(2), 0, 128), E(dot(128), P(3), 0, 128)}, {P(2), P(3)});
  expect_refused(ours, theirs, no_allocations, MergeError::different_seeds,
                 "IP allocation was seeded by different peers (received: [00:00:00:00:00:02 "
                 "00:00:00:00:00:03], ours: [00:00:00:00:00:01])");
  // Order matters too: the same peers listed differently are different seeds.
  Ring a = ring_of(P(1), {}, {P(1), P(2)});
  Ring b = ring_of(P(2), {}, {P(2), P(1)});
  EXPECT_FALSE(a.merge(b, no_allocations).ok());
}

TEST(RingMerge, Range_DifferentUniversesNeverMerge) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 256)});
  Ring theirs = Ring::from_parts(Range{dot(0), dot(128)}, P(2), {}, {});
  expect_refused(ours, theirs, no_allocations, MergeError::different_range,
                 "Incompatible IP allocation ranges (received: 10.0.0.0/25, ours: 10.0.0.0/24)");
}

TEST(RingMerge, Invariants_ABrokenIncomingRingIsRefused) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 256)});
  expect_refused(ours, ring_of(P(2), {E(dot(128), P(2), 0, 0), E(dot(0), P(2), 0, 0)}),
                 no_allocations, MergeError::invalid_ring,
                 "Ring not sorted: 10.0.0.128 before 10.0.0.0");
  expect_refused(ours, ring_of(P(2), {E(dot(5), P(2), 0, 0), E(dot(5), P(3), 0, 0)}),
                 no_allocations, MergeError::invalid_ring, "Token appears twice in ring: 10.0.0.5");
  expect_refused(ours, ring_of(P(2), {E(kEnd, P(2), 0, 0)}), no_allocations,
                 MergeError::invalid_ring,
                 "Token is out of range: 10.0.1.0 is outside 10.0.0.0-10.0.0.255");
  expect_refused(ours, ring_of(P(2), {E(dot(0), P(2), 0, 200), E(dot(100), P(3), 0, 0)}),
                 no_allocations, MergeError::invalid_ring,
                 "Entry 10.0.0.0-10.0.0.100 reporting too much free space: 200 > 100");
}

// --- Tokens only on one side ----------------------------------------------

TEST(RingMerge, OnlyInOurs_IsKept) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 3, 0), E(dot(64), P(1), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(2), 3, 0)});
  EXPECT_FALSE(merged(ours, theirs));
  EXPECT_EQ(ours.entries().size(), 2u);
}

TEST(RingMerge, OnlyInTheirs_IsInsertedWhenItSplitsSomeoneElsesRange) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 128), E(dot(128), P(2), 0, 128)});
  // P(2) gave [.200, .256) to P(3) (bumping its own entry).
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 0, 128), E(dot(128), P(2), 1, 72), E(dot(200), P(3), 0, 56)});
  AllocationProbe probe(true);
  EXPECT_TRUE(merged(ours, theirs, probe.fn()));
  EXPECT_TRUE(probe.asked.empty());  // not our range: nothing to ask
  EXPECT_EQ(ours.entries(), theirs.entries());
}

TEST(RingMerge, OnlyInTheirs_SplittingOurRangeWithoutAllocationsIsAccepted) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 128), E(dot(192), P(2), 0, 64)});
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 0, 128), E(dot(128), P(3), 0, 64), E(dot(192), P(2), 0, 64)});
  AllocationProbe probe(false);
  EXPECT_TRUE(merged(ours, theirs, probe.fn()));
  // Asked about exactly the part split off: from their token to our next.
  ASSERT_EQ(probe.asked.size(), 1u);
  EXPECT_EQ(probe.asked[0], (std::vector<Range>{{dot(128), dot(192)}}));
  EXPECT_EQ(ours.owner(dot(150)), P(3));
}

TEST(RingMerge, OnlyInTheirs_SplittingOurRangeWithAllocationsIsRefused) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 128), E(dot(192), P(2), 0, 64)});
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 0, 128), E(dot(128), P(3), 0, 64), E(dot(192), P(2), 0, 64)});
  expect_refused(ours, theirs, allocations_everywhere, MergeError::entry_in_my_range,
                 "Peer 00:00:00:00:00:03 says it owns the IP range from 10.0.0.128, which I "
                 "think I own");
}

TEST(RingMerge, OnlyInTheirs_NamingUsIsAcceptedWithoutAsking) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 0), E(dot(192), P(2), 0, 0)});
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 0, 0), E(dot(128), P(1), 0, 0), E(dot(192), P(2), 0, 0)});
  AllocationProbe probe(true);
  EXPECT_TRUE(merged(ours, theirs, probe.fn()));
  EXPECT_TRUE(probe.asked.empty());
}

// --- The same token on both sides ------------------------------------------

TEST(RingMerge, SameToken_OurHigherVersionWins) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 5, 10)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 4, 99)});
  EXPECT_FALSE(merged(ours, theirs));
  EXPECT_EQ(ours.entries(), (std::vector<Entry>{E(dot(0), P(2), 5, 10)}));
}

TEST(RingMerge, SameToken_EqualVersionAndClaimKeepsOursWhateverTheFreeCount) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 5, 10)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(2), 5, 99)});
  EXPECT_FALSE(merged(ours, theirs));
  EXPECT_EQ(ours.entries(), (std::vector<Entry>{E(dot(0), P(2), 5, 10)}));
}

TEST(RingMerge, SameToken_EqualVersionConflictOnOursWithAllocationsIsInconsistent) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 3, 10), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 3, 50), E(dot(128), P(2), 0, 0)});
  AllocationProbe probe(true);
  expect_refused(ours, theirs, probe.fn(), MergeError::inconsistent_entry,
                 "Inconsistent entries for 10.0.0.0: owned by 00:00:00:00:00:01 but incoming "
                 "message says 00:00:00:00:00:03");
  ASSERT_EQ(probe.asked.size(), 1u);
  EXPECT_EQ(probe.asked[0], (std::vector<Range>{{dot(0), dot(128)}}));
}

TEST(RingMerge, SameToken_EqualVersionConflictHigherFreeWins) {
  // Theirs has more free: theirs wins (we had no allocations there).
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 3, 10), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 3, 50), E(dot(128), P(2), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs));
  EXPECT_EQ(ours.entries()[0], E(dot(0), P(3), 3, 50));
  // Equal free: ours wins.
  Ring ours2 = ring_of(P(1), {E(dot(0), P(1), 3, 50), E(dot(128), P(2), 0, 0)});
  EXPECT_FALSE(merged(ours2, theirs));
  EXPECT_EQ(ours2.entries()[0], E(dot(0), P(1), 3, 50));
}

TEST(RingMerge, SameToken_EqualVersionConflictBetweenOthersIsATieBreakWithoutAsking) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 3, 10)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 3, 11)});
  AllocationProbe probe(true);
  EXPECT_TRUE(merged(ours, theirs, probe.fn()));
  EXPECT_TRUE(probe.asked.empty());
  EXPECT_EQ(ours.entries()[0].peer, P(3));
}

TEST(RingMerge, SameToken_TheirHigherVersionOfSomeoneElsesEntryWins) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 3, 10)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 4, 0)});
  EXPECT_TRUE(merged(ours, theirs));
  EXPECT_EQ(ours.entries(), theirs.entries());
}

TEST(RingMerge, SameToken_TheirHigherVersionGivingOurEntryAwayRepairsWithoutAllocations) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 3, 100), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 103, 7), E(dot(128), P(2), 0, 0)});
  AllocationProbe probe(false);
  EXPECT_TRUE(merged(ours, theirs, probe.fn()));
  EXPECT_EQ(ours.entries()[0], E(dot(0), P(3), 103, 7));
  ASSERT_EQ(probe.asked.size(), 1u);
  EXPECT_EQ(probe.asked[0], (std::vector<Range>{{dot(0), dot(128)}}));
}

TEST(RingMerge, SameToken_TheirHigherVersionGivingOurEntryAwayWithAllocationsIsRefused) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 3, 100), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(3), 103, 7), E(dot(128), P(2), 0, 0)});
  expect_refused(ours, theirs, allocations_everywhere, MergeError::newer_version,
                 "Received update for IP range I own at 10.0.0.0 v3: incoming message says "
                 "owner 00:00:00:00:00:03 v103");
}

TEST(RingMerge, SameToken_TheirHigherVersionStillOursIsReasserted) {
  // We restarted without our data and rebuilt v2; the others hold v9.
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 2, 100), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(1), 9, 3), E(dot(128), P(2), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs, allocations_everywhere));
  // Our content, their version + 1.
  EXPECT_EQ(ours.entries()[0], E(dot(0), P(1), 10, 100));
  // Which then wins everywhere.
  Ring others = theirs;
  EXPECT_TRUE(merged(others, ours));
  EXPECT_EQ(others.entries()[0], E(dot(0), P(1), 10, 100));
}

// --- Tokens of theirs after our last ---------------------------------------

TEST(RingMerge, Trailing_TheirTokensAfterSomeoneElsesLastRangeAreInserted) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 0), E(dot(128), P(2), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(1), 0, 0), E(dot(128), P(2), 1, 0),
                               E(dot(200), P(3), 0, 0), E(dot(220), P(2), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs));
  EXPECT_EQ(ours.entries(), theirs.entries());
}

TEST(RingMerge, Trailing_TheirTokenInOurLastRangeIsRefusedEvenWithoutAllocations) {
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 0, 0), E(dot(128), P(1), 0, 0)});
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(2), 0, 0), E(dot(128), P(1), 0, 0), E(dot(200), P(3), 0, 0)});
  expect_refused(ours, theirs, no_allocations, MergeError::entry_in_my_range,
                 "Peer 00:00:00:00:00:03 says it owns the IP range from 10.0.0.200, which I "
                 "think I own");
}

// --- After the merge -------------------------------------------------------

TEST(RingMerge, After_OurFreeCountIsClampedToOurShrunkRange) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 128), E(dot(128), P(2), 0, 0)});
  // Someone split our range, their copy of our entry at the same version.
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 0, 50), E(dot(64), P(3), 0, 0), E(dot(128), P(2), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs, no_allocations));
  // Ours is kept, its free count clamped, without a version bump.
  EXPECT_EQ(ours.entries()[0], E(dot(0), P(1), 0, 64));
}

TEST(RingMerge, After_AResultBreakingTheInvariantsIsRefused) {
  // Their entry at .0 (someone else's) claims 200 free, but our token at
  // .100 cuts its range to 100.
  Ring ours = ring_of(P(1), {E(dot(0), P(2), 5, 0), E(dot(100), P(1), 0, 0)});
  Ring theirs = ring_of(P(2), {E(dot(0), P(2), 6, 200)});
  expect_refused(ours, theirs, no_allocations, MergeError::invalid_result,
                 "Merge of incoming data causes: Entry 10.0.0.0-10.0.0.100 reporting too much "
                 "free space: 200 > 100");
}

TEST(RingMerge, ReportsWhetherAnythingChanged) {
  Ring a(kUniverse, P(1));
  ASSERT_TRUE(a.claim_for_peers({P(1), P(2)}).ok());
  Ring b(kUniverse, P(2));
  EXPECT_TRUE(merged(b, a));
  EXPECT_FALSE(merged(b, a));  // again: nothing new
  ASSERT_TRUE(b.grant_range_to_host(dot(192), kEnd, P(1)).ok());
  EXPECT_TRUE(merged(a, b));
  EXPECT_FALSE(merged(a, b));
  EXPECT_EQ(a.entries(), b.entries());
  EXPECT_FALSE(merged(a, Ring(kUniverse, P(3))));  // an empty ring teaches nothing
}

// Weave's donation round trip (ring_test.go TestMergeSimple): two peers
// donate to each other concurrently and converge.
TEST(RingMerge, ConcurrentDonationsOfOwnRangesConverge) {
  Ring r1(kUniverse, P(1));
  Ring r2(kUniverse, P(2));
  ASSERT_TRUE(r1.claim_for_peers({P(1)}).ok());
  ASSERT_TRUE(r1.grant_range_to_host(dot(128), kEnd, P(2)).ok());
  EXPECT_TRUE(merged(r2, r1));
  EXPECT_EQ(r1.entries(), (std::vector<Entry>{E(dot(0), P(1), 1, 128), E(dot(128), P(2), 0, 128)}));
  EXPECT_EQ(r2.entries(), r1.entries());

  ASSERT_TRUE(r1.grant_range_to_host(dot(0), dot(128), P(2)).ok());
  ASSERT_TRUE(r2.grant_range_to_host(dot(128), kEnd, P(1)).ok());
  EXPECT_TRUE(merged(r2, r1));
  EXPECT_TRUE(merged(r1, r2));
  EXPECT_EQ(r1.entries(), (std::vector<Entry>{E(dot(0), P(2), 2, 128), E(dot(128), P(1), 1, 128)}));
  EXPECT_EQ(r2.entries(), r1.entries());
}

// --- Weave's quirks, kept ---------------------------------------------------

// The split check looks at the owner of the last entry merge kept of ours.
// A reasserted entry does not count as kept, so a token of theirs right
// after it goes in unchecked, allocations or not.
TEST(RingMerge, Quirk_AfterAReassertTheNextSplitIsNotChecked) {
  Ring ours = ring_of(P(1), {E(dot(0), P(1), 0, 0), E(dot(200), P(2), 0, 0)});
  Ring theirs =
      ring_of(P(2), {E(dot(0), P(1), 5, 0), E(dot(100), P(3), 0, 0), E(dot(200), P(2), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs, allocations_everywhere));
  EXPECT_EQ(ours.entries()[0], E(dot(0), P(1), 6, 0));
  EXPECT_EQ(ours.owner(dot(150)), P(3));
}

// Nor is a token of theirs below our first token, though the range it cuts
// is our last one, wrapped round.
TEST(RingMerge, Quirk_ATokenBelowOurFirstIsNotChecked) {
  Ring ours = ring_of(P(1), {E(dot(100), P(2), 0, 0), E(dot(200), P(1), 0, 0)});
  Ring theirs =
      ring_of(P(2), {E(dot(10), P(3), 0, 0), E(dot(100), P(2), 0, 0), E(dot(200), P(1), 0, 0)});
  EXPECT_TRUE(merged(ours, theirs, allocations_everywhere));
  EXPECT_EQ(ours.owner(dot(20)), P(3));
}

}  // namespace
}  // namespace loom::ipam
