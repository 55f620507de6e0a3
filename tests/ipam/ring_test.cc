// Ring operations other than merge: the initial split, donation (grant),
// transfer, free-space reports, ownership queries, and whom to ask for space.
#include "model/ipam/ring.h"

#include <gtest/gtest.h>

#include "model/ipam/address.h"
#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::A;
using testing::dot;
using testing::E;
using testing::kUniverse;
using testing::P;
using testing::ring_of;

const Address kStart = kUniverse.start;
const Address kEnd = kUniverse.end;

std::vector<PeerName> peers(size_t n) {
  std::vector<PeerName> out;
  for (size_t i = 1; i <= n; ++i) out.push_back(P(i));
  return out;
}

Ring claimed(size_t n, PeerName us = P(1)) {
  Ring r(kUniverse, us);
  EXPECT_TRUE(r.claim_for_peers(peers(n)).ok());
  return r;
}

TEST(RingClaim, OnePeerOwnsEverything) {
  EXPECT_EQ(claimed(1).entries(), (std::vector<Entry>{E(kStart, P(1), 0, 256)}));
  EXPECT_EQ(claimed(1).seeds(), peers(1));
}

TEST(RingClaim, TwoPeersSplitInHalves) {
  EXPECT_EQ(claimed(2).entries(),
            (std::vector<Entry>{E(dot(0), P(1), 0, 128), E(dot(128), P(2), 0, 128)}));
}

TEST(RingClaim, ThreePeersFirstTakesTheLowerHalf) {
  EXPECT_EQ(claimed(3).entries(),
            (std::vector<Entry>{E(dot(0), P(1), 0, 128), E(dot(128), P(2), 0, 64),
                                E(dot(192), P(3), 0, 64)}));
}

TEST(RingClaim, FivePeersSplitTwoAndThree) {
  EXPECT_EQ(
      claimed(5).entries(),
      (std::vector<Entry>{E(dot(0), P(1), 0, 64), E(dot(64), P(2), 0, 64), E(dot(128), P(3), 0, 64),
                          E(dot(192), P(4), 0, 32), E(dot(224), P(5), 0, 32)}));
  EXPECT_EQ(claimed(5).seeds(), peers(5));
}

TEST(RingClaim, PiecesAreCidrAlignedOnThePowerOfTwoUniverse) {
  const Range universe = parse_allocation_range("10.32.0.0/12")->range();
  for (size_t n = 1; n <= 40; ++n) {
    Ring r(universe, P(1));
    ASSERT_TRUE(r.claim_for_peers(peers(n)).ok());
    ASSERT_TRUE(r.check_invariants().ok());
    ASSERT_EQ(r.entries().size(), n);
    uint64_t covered = 0;
    for (size_t i = 0; i < n; ++i) {
      const Entry& e = r.entries()[i];
      EXPECT_EQ(e.peer, P(i + 1));  // in the order given
      EXPECT_EQ(e.free & (e.free - 1), 0u) << "piece size is a power of two";
      EXPECT_EQ((e.token - universe.start) % e.free, 0u) << "piece is aligned to its size";
      covered += e.free;
    }
    EXPECT_EQ(covered, universe.size());
  }
}

TEST(RingClaim, MorePeersThanAddressesLeavesSomeOut) {
  // 8 addresses, 12 peers: every address is claimed, some peers get none.
  const Range tiny{dot(0), dot(8)};
  Ring r(tiny, P(1));
  ASSERT_TRUE(r.claim_for_peers(peers(12)).ok());
  EXPECT_TRUE(r.check_invariants().ok());
  EXPECT_EQ(r.entries().size(), 8u);
  EXPECT_EQ(r.entries().back().token + r.entries().back().free, tiny.end);
  EXPECT_EQ(r.seeds().size(), 12u);
}

TEST(RingClaim, OnlyOnAnEmptyRing) {
  Ring r = claimed(2);
  EXPECT_FALSE(r.claim_for_peers(peers(3)).ok());
  Ring empty(kUniverse, P(1));
  EXPECT_FALSE(empty.claim_for_peers({}).ok());
}

// The version numbers below are Weave's (ring_test.go, TestGrantSimple and
// TestGrantSplit).
TEST(RingGrant, WholeRangeReassignsTheTokenWithOneVersionBump) {
  Ring r = claimed(1);
  ASSERT_TRUE(r.grant_range_to_host(kStart, kEnd, P(2)).ok());
  EXPECT_EQ(r.entries(), (std::vector<Entry>{E(kStart, P(2), 1, 256)}));
}

TEST(RingGrant, TailInsertsATokenAndBumpsTheShrunkEntry) {
  Ring r = ring_of(P(2), {E(kStart, P(2), 1, 256)});
  ASSERT_TRUE(r.grant_range_to_host(dot(10), kEnd, P(1)).ok());
  EXPECT_EQ(r.entries(), (std::vector<Entry>{E(kStart, P(2), 2, 10), E(dot(10), P(1), 0, 246)}));

  Ring r1 = ring_of(P(1), r.entries());
  ASSERT_TRUE(r1.grant_range_to_host(dot(245), kEnd, P(2)).ok());
  EXPECT_EQ(r1.entries(), (std::vector<Entry>{E(kStart, P(2), 2, 10), E(dot(10), P(1), 1, 235),
                                              E(dot(245), P(2), 0, 11)}));
}

TEST(RingGrant, SpanningALiveTokenGivesItAwayToo) {
  Ring r =
      ring_of(P(1), {E(kStart, P(1), 2, 10), E(dot(10), P(1), 0, 235), E(dot(245), P(1), 0, 10)});
  ASSERT_TRUE(r.grant_range_to_host(dot(10), kEnd, P(2)).ok());
  EXPECT_EQ(r.entries(), (std::vector<Entry>{E(kStart, P(1), 2, 10), E(dot(10), P(2), 1, 235),
                                             E(dot(245), P(2), 1, 10)}));
}

TEST(RingGrant, MiddleAddsAtMostTwoTokens) {
  Ring r = claimed(1);
  ASSERT_TRUE(r.grant_range_to_host(dot(10), dot(245), P(2)).ok());
  EXPECT_EQ(r.entries(), (std::vector<Entry>{E(kStart, P(1), 1, 10), E(dot(10), P(2), 0, 235),
                                             E(dot(245), P(1), 0, 11)}));

  Ring s =
      ring_of(P(1), {E(kStart, P(1), 2, 10), E(dot(10), P(1), 0, 118), E(dot(128), P(1), 0, 127)});
  ASSERT_TRUE(s.grant_range_to_host(dot(10), dot(245), P(2)).ok());
  EXPECT_EQ(s.entries(), (std::vector<Entry>{E(kStart, P(1), 2, 10), E(dot(10), P(2), 1, 118),
                                             E(dot(128), P(2), 1, 117), E(dot(245), P(1), 0, 11)}));
}

TEST(RingGrant, BelowTheFirstTokenSplitsTheWrappedRange) {
  // Our one entry at .100 wraps round to cover [.0, .100) too.
  Ring r = ring_of(P(1), {E(dot(100), P(1), 0, 256)});
  ASSERT_TRUE(r.grant_range_to_host(dot(20), dot(40), P(2)).ok());
  EXPECT_EQ(r.entries(), (std::vector<Entry>{E(dot(20), P(2), 0, 20), E(dot(40), P(1), 0, 60),
                                             E(dot(100), P(1), 1, 176)}));
  EXPECT_TRUE(r.check_invariants().ok());
  EXPECT_EQ(r.owner(dot(19)), P(1));
  EXPECT_EQ(r.owner(dot(20)), P(2));
  EXPECT_EQ(r.owner(dot(40)), P(1));
}

TEST(RingGrant, RefusesRangesWeDoNotOwnAndChangesNothing) {
  Ring r = claimed(2);  // we are P(1): [.0, .128)
  const auto before = r.entries();
  const auto not_ours = r.grant_range_to_host(dot(100), dot(200), P(3));
  ASSERT_FALSE(not_ours.ok());
  EXPECT_EQ(not_ours.error().message,
            "grant 10.0.0.100-10.0.0.199 to 00:00:00:00:00:03: we do not own the range from "
            "10.0.0.128");
  EXPECT_FALSE(r.grant_range_to_host(dot(130), dot(140), P(3)).ok());
  EXPECT_FALSE(r.grant_range_to_host(dot(10), dot(10), P(3)).ok());
  EXPECT_FALSE(Ring(kUniverse, P(1)).grant_range_to_host(dot(1), dot(2), P(3)).ok());
  EXPECT_EQ(r.entries(), before);
}

TEST(RingTransfer, MovesEveryEntryWithVersionPlusHundred) {
  Ring r = claimed(1);
  ASSERT_TRUE(r.grant_range_to_host(dot(128), kEnd, P(2)).ok());
  const auto moved = r.transfer(P(2), P(1));
  EXPECT_EQ(moved, (std::vector<Range>{{dot(128), kEnd}}));
  EXPECT_EQ(r.entries(),
            (std::vector<Entry>{E(kStart, P(1), 1, 128), E(dot(128), P(1), 100, 128)}));
  EXPECT_EQ(r.owned_ranges(), (std::vector<Range>{{kStart, dot(128)}, {dot(128), kEnd}}));
  // A token transferred back to us can be granted again.
  ASSERT_TRUE(r.grant_range_to_host(dot(10), dot(128), P(2)).ok());
  EXPECT_EQ(r.owned_ranges(), (std::vector<Range>{{kStart, dot(10)}, {dot(128), kEnd}}));
}

TEST(RingTransfer, SplitsAWrappingRangeAtTheUniverseEnd) {
  Ring r = ring_of(P(1), {E(dot(10), P(1), 0, 0), E(dot(200), P(2), 7, 0)});
  EXPECT_EQ(r.transfer(P(2), P(3)), (std::vector<Range>{{kStart, dot(10)}, {dot(200), kEnd}}));
  EXPECT_EQ(r.entries()[1], E(dot(200), P(3), 107, 0));
  EXPECT_TRUE(r.transfer(P(9), P(3)).empty());
}

TEST(RingReportFree, BumpsTheVersionOnlyWhenACountChanges) {
  Ring r = claimed(2);
  auto changed = r.report_free({{kStart, 100}});
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(r.entries()[0], E(kStart, P(1), 1, 100));
  changed = r.report_free({{kStart, 100}});
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_EQ(r.entries()[0].version, 1u);
}

TEST(RingReportFree, AddsUpTheTwoPartsOfAWrappedRange) {
  Ring r = ring_of(P(1), {E(dot(10), P(2), 0, 0), E(dot(200), P(1), 0, 66)});
  EXPECT_EQ(r.owned_ranges(), (std::vector<Range>{{kStart, dot(10)}, {dot(200), kEnd}}));
  ASSERT_TRUE(r.report_free({{kStart, 3}, {dot(200), 20}}).ok());
  EXPECT_EQ(r.entries()[1], E(dot(200), P(1), 1, 23));
}

TEST(RingReportFree, RefusesOthersRangesAndImpossibleCounts) {
  Ring r = claimed(2);
  const auto before = r.entries();
  const auto others = r.report_free({{kStart, 5}, {dot(128), 5}});
  ASSERT_FALSE(others.ok());
  EXPECT_EQ(others.error().message, "report_free: no range of ours starts at 10.0.0.128");
  EXPECT_FALSE(r.report_free({{kStart, 129}}).ok());
  EXPECT_EQ(r.entries(), before);
}

TEST(RingOwner, IsTheEntryAtOrBeforeTheAddressWrapping) {
  EXPECT_EQ(Ring(kUniverse, P(1)).owner(dot(5)), mesh::kUnknownPeerName);
  Ring r = ring_of(P(1), {E(dot(10), P(1), 0, 0), E(dot(200), P(2), 0, 0)});
  EXPECT_EQ(r.owner(dot(5)), P(2));
  EXPECT_EQ(r.owner(dot(10)), P(1));
  EXPECT_EQ(r.owner(dot(199)), P(1));
  EXPECT_EQ(r.owner(dot(255)), P(2));
  EXPECT_EQ(r.owner(kEnd), mesh::kUnknownPeerName);  // outside the universe
  EXPECT_EQ(r.owned_ranges_of(P(2)), (std::vector<Range>{{kStart, dot(10)}, {dot(200), kEnd}}));
  EXPECT_EQ(r.peer_names(), (std::vector<PeerName>{P(1), P(2)}));
  EXPECT_EQ(r.all_range_info(), (std::vector<RangeInfo>{{P(1), {dot(10), dot(200)}, 0},
                                                        {P(2), {kStart, dot(10)}, 0},
                                                        {P(2), {dot(200), kEnd}, 0}}));
}

TEST(RingOwner, OneEntryOwnsTheWholeRing) {
  Ring r = ring_of(P(1), {E(dot(100), P(1), 0, 0)});
  EXPECT_EQ(r.owned_ranges(), (std::vector<Range>{{kStart, dot(100)}, {dot(100), kEnd}}));
  Ring s = ring_of(P(1), {E(kStart, P(1), 0, 0)});
  EXPECT_EQ(s.owned_ranges(), (std::vector<Range>{{kStart, kEnd}}));
}

TEST(RingPickHeir, FirstOtherOwnerThePredicateAccepts) {
  Ring r = claimed(3);
  EXPECT_EQ(r.pick_peer_for_transfer([](PeerName) { return true; }), P(2));
  EXPECT_EQ(r.pick_peer_for_transfer([](PeerName p) { return p == P(3); }), P(3));
  EXPECT_EQ(r.pick_peer_for_transfer([](PeerName) { return false; }), mesh::kUnknownPeerName);
}

TEST(RingAskForSpace, OnlyOthersWithFreeSpaceInTheRange) {
  Random random(1);
  Ring r = ring_of(P(1), {E(kStart, P(1), 0, 10)});
  EXPECT_TRUE(r.choose_peers_to_ask_for_space(kStart, kEnd, random).empty());  // not ourselves
  r = ring_of(P(1), {E(kStart, P(2), 0, 0), E(dot(128), P(3), 0, 0)});
  EXPECT_TRUE(r.choose_peers_to_ask_for_space(kStart, kEnd, random).empty());  // nothing free
  r = ring_of(P(1), {E(kStart, P(2), 0, 1), E(dot(128), P(3), 0, 1)});
  EXPECT_EQ(r.choose_peers_to_ask_for_space(kStart, dot(128), random),
            (std::vector<PeerName>{P(2)}));
  EXPECT_EQ(r.choose_peers_to_ask_for_space(dot(128), kEnd, random), (std::vector<PeerName>{P(3)}));
  EXPECT_EQ(r.choose_peers_to_ask_for_space(kStart, kEnd, random).size(), 2u);
}

TEST(RingAskForSpace, OrderIsWeightedByFreeSpace) {
  // P(2) has 100 times P(3)'s free space: it comes first almost always, but
  // not always (the order is random).
  Ring r = ring_of(P(1), {E(kStart, P(2), 0, 100), E(dot(128), P(3), 0, 1)});
  Random random(42);
  int p2_first = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto order = r.choose_peers_to_ask_for_space(kStart, kEnd, random);
    ASSERT_EQ(order.size(), 2u);
    if (order[0] == P(2)) ++p2_first;
  }
  EXPECT_GT(p2_first, 1960);
  EXPECT_LT(p2_first, 2000);
  // The same seed gives the same order.
  Random a(9);
  Random b(9);
  EXPECT_EQ(r.choose_peers_to_ask_for_space(kStart, kEnd, a),
            r.choose_peers_to_ask_for_space(kStart, kEnd, b));
}

TEST(RingInvariants, EachBrokenRuleIsNamed) {
  auto message = [](std::vector<Entry> entries) {
    const auto r = ring_of(P(1), std::move(entries)).check_invariants();
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_EQ(message({E(dot(245), P(1), 0, 0), E(dot(10), P(2), 0, 0)}),
            "Ring not sorted: 10.0.0.245 before 10.0.0.10");
  EXPECT_EQ(message({E(dot(245), P(1), 0, 0), E(dot(245), P(2), 0, 0)}),
            "Token appears twice in ring: 10.0.0.245");
  EXPECT_EQ(message({E(kEnd, P(1), 0, 0)}),
            "Token is out of range: 10.0.1.0 is outside 10.0.0.0-10.0.0.255");
  EXPECT_EQ(message({E(dot(0), P(1), 0, 11), E(dot(10), P(2), 0, 0)}),
            "Entry 10.0.0.0-10.0.0.10 reporting too much free space: 11 > 10");
  EXPECT_EQ(message({E(dot(10), P(2), 0, 256)}), "ok");  // the whole ring
}

TEST(RingPrint, ListsEachToken) {
  EXPECT_EQ(claimed(2).to_string(),
            "Ring [10.0.0.0, 10.0.1.0)\n  10.0.0.0 -> 00:00:00:00:00:01 (v0)\n"
            "  10.0.0.128 -> 00:00:00:00:00:02 (v0)");
}

}  // namespace
}  // namespace loom::ipam
