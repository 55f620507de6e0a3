// Ring merge properties (rapidcheck):
// - rings derived from one ancestor, each by its owner changing only its own
//   entries (donations, free-space reports, shutdown transfers), merge to
//   the same ring in any order, and merging again changes nothing;
// - whatever two rings are merged (rmpeer on both sides, restarts, ...), a
//   merge that succeeds leaves the invariants intact and one that fails
//   leaves the ring as it was.
#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "model/ipam/codec.h"
#include "model/ipam/ring.h"
#include "model/random.h"
#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::allocations_everywhere;
using testing::kUniverse;
using testing::no_allocations;
using testing::P;

const PeerName kSpectator = P(40);

// One owner's change to its own entries, drawn by rapidcheck.
void own_change(Ring& ring, size_t peer_count, bool allow_shutdown) {
  const std::vector<Range> owned = ring.owned_ranges();
  if (owned.empty()) return;
  const int kind = *rc::gen::inRange(0, allow_shutdown ? 10 : 9);
  if (kind < 6) {
    // Donate a piece of one of our ranges to someone (perhaps a newcomer).
    const Range r = owned[*rc::gen::inRange<size_t>(0, owned.size())];
    const Count offset = *rc::gen::inRange<Count>(0, r.size());
    const Count length = *rc::gen::inRange<Count>(1, r.size() - offset + 1);
    PeerName to = P(*rc::gen::inRange<uint64_t>(1, peer_count + 2));
    if (to == ring.us()) to = P(peer_count + 5);
    RC_ASSERT(ring.grant_range_to_host(r.start + offset, r.start + offset + length, to).ok());
  } else if (kind < 9) {
    std::map<Address, Count> free;
    for (const Range& r : owned) free[r.start] = *rc::gen::inRange<Count>(0, r.size() + 1);
    // The two parts of a wrapped range report into one entry: keep their
    // sum within it.
    const auto ok = ring.report_free(free);
    if (!ok.ok()) {
      for (auto& [start, count] : free) count = 0;
      RC_ASSERT(ring.report_free(free).ok());
    }
  } else {
    // Shutdown: everything to an heir.
    PeerName heir = P(*rc::gen::inRange<uint64_t>(1, peer_count + 1));
    if (heir == ring.us()) heir = P(peer_count + 5);
    ring.transfer(ring.us(), heir);
  }
  RC_ASSERT(ring.check_invariants().ok());
}

Ring copy_as(const Ring& r, PeerName us) {
  return Ring::from_parts(r.universe(), us, r.entries(), r.seeds());
}

// Every peer's own copy of a shared ring, after a few rounds of own changes
// and full exchange.
std::vector<Ring> forks(size_t peer_count, int rounds) {
  std::vector<PeerName> names;
  for (size_t i = 1; i <= peer_count; ++i) names.push_back(P(i));
  Ring ancestor(kUniverse, P(1));
  RC_ASSERT(ancestor.claim_for_peers(names).ok());
  std::vector<Ring> rings;
  for (PeerName n : names) rings.push_back(copy_as(ancestor, n));
  for (int round = 0; round < rounds; ++round) {
    for (Ring& r : rings) {
      const int changes = *rc::gen::inRange(0, 4);
      for (int c = 0; c < changes; ++c) own_change(r, peer_count, round + 1 == rounds);
    }
    if (round + 1 == rounds) break;
    // Everyone hears everyone.
    std::vector<Ring> next;
    for (const Ring& r : rings) {
      Ring m = r;
      for (const Ring& o : rings) RC_ASSERT(m.merge(o, allocations_everywhere).ok());
      next.push_back(std::move(m));
    }
    rings = std::move(next);
  }
  return rings;
}

Ring merge_in_order(const std::vector<Ring>& rings, const std::vector<size_t>& order, Ring into,
                    const Ring::HasAllocations& has) {
  for (size_t i : order) {
    const auto r = into.merge(rings[i], has);
    RC_ASSERT(r.ok());
    RC_ASSERT(into.check_invariants().ok());
  }
  return into;
}

TEST(RingProperty, OwnChangesMergeInAnyOrderToOneRingAndAgainToNoChange) {
  const bool ok = rc::check("commutative and idempotent", [] {
    const auto peer_count = *rc::gen::inRange<size_t>(2, 7);
    const std::vector<Ring> rings = forks(peer_count, *rc::gen::inRange(1, 4));
    std::vector<size_t> order(rings.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    const Ring first = merge_in_order(rings, order, Ring(kUniverse, kSpectator), no_allocations);

    Random random(*rc::gen::arbitrary<uint64_t>());
    std::shuffle(order.begin(), order.end(), random);
    const Ring second = merge_in_order(rings, order, Ring(kUniverse, kSpectator), no_allocations);
    RC_ASSERT(first.entries() == second.entries());
    RC_ASSERT(first.seeds() == second.seeds());

    // Each owner ends with the same ring, and none of its allocations was
    // ever in the way.
    for (const Ring& own : rings) {
      std::shuffle(order.begin(), order.end(), random);
      const Ring theirs = merge_in_order(rings, order, own, allocations_everywhere);
      RC_ASSERT(theirs.entries() == first.entries());
    }

    // Idempotent: nothing merged again changes anything.
    Ring again = first;
    for (const Ring& r : rings) {
      const auto changed = again.merge(r, no_allocations);
      RC_ASSERT(changed.ok());
      RC_ASSERT(!*changed);
    }
    RC_ASSERT(!*again.merge(first, no_allocations));
    RC_ASSERT(again.entries() == first.entries());
  });
  EXPECT_TRUE(ok);
}

TEST(RingProperty, AnyMergeKeepsTheInvariantsOrChangesNothing) {
  const bool ok = rc::check("invariants after any merge", [] {
    const auto peer_count = *rc::gen::inRange<size_t>(2, 6);
    std::vector<Ring> rings = forks(peer_count, *rc::gen::inRange(1, 3));
    // Conflicting changes: rmpeer of someone on several hosts, restarts that
    // lost everything, and rings seeded elsewhere.
    for (Ring& r : rings) {
      const int chaos = *rc::gen::inRange(0, 6);
      if (chaos == 0) {
        r.transfer(P(*rc::gen::inRange<uint64_t>(1, peer_count + 1)), r.us());
      } else if (chaos == 1) {
        r = Ring(kUniverse, r.us());
      } else if (chaos == 2) {
        Ring other(kUniverse, r.us());
        RC_ASSERT(other.claim_for_peers({r.us()}).ok());
        r = other;
      }
      if (!r.empty() && *rc::gen::arbitrary<bool>()) own_change(r, peer_count, false);
    }
    int refused = 0;
    for (int k = 0; k < 12; ++k) {
      Ring& into = rings[*rc::gen::inRange<size_t>(0, rings.size())];
      const Ring& from = rings[*rc::gen::inRange<size_t>(0, rings.size())];
      const Ring from_copy = from;
      const bool allocated = *rc::gen::arbitrary<bool>();
      const auto entries = into.entries();
      const auto seeds = into.seeds();
      const auto r = into.merge(from_copy, allocated ? allocations_everywhere : no_allocations);
      if (r.ok()) {
        RC_ASSERT(into.check_invariants().ok());
        const auto back = decode_ring(encode_ring(into));
        RC_ASSERT(back.ok());
        RC_ASSERT(back->entries() == into.entries());
      } else {
        ++refused;
        RC_ASSERT(into.entries() == entries);
        RC_ASSERT(into.seeds() == seeds);
      }
    }
    RC_CLASSIFY(refused > 0, "some merges refused");
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace loom::ipam
