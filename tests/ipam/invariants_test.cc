// The invariant checker on hand-built peer states: each kind of problem
// found and counted, none reported for a healthy network.
#include "model/ipam/invariants.h"

#include <gtest/gtest.h>

#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::dot;
using testing::E;
using testing::kUniverse;
using testing::P;

// A 10.0.0.0/24 ring split in two: P(1) [0, 128), P(2) [128, 256).
Ring halves(PeerName us, uint32_t version2 = 0) {
  return testing::ring_of(us, {E(dot(0), P(1), 0, 128), E(dot(128), P(2), version2, 128)},
                          {P(1), P(2)});
}

AllocatorSnapshot peer(PeerName name, std::optional<Ring> ring, std::vector<Range> space,
                       std::map<Address, std::string> idents = {}) {
  AllocatorSnapshot s;
  s.name = name;
  s.ring = std::move(ring);
  s.space = std::move(space);
  for (const auto& [a, ident] : idents) s.allocated.push_back(Range{a, a + 1});
  s.idents = std::move(idents);
  return s;
}

TEST(IpamInvariants, AHealthyNetworkHasNoProblems) {
  InvariantInput in;
  in.peers = {peer(P(1), halves(P(1)), {{dot(0), dot(128)}}, {{dot(1), "a"}}),
              peer(P(2), halves(P(2)), {{dot(128), dot(0) + 256}}, {{dot(130), "b"}})};
  in.workloads = {Workload{P(1), "a", dot(1)}};  // the same holder: not a duplicate
  const InvariantReport r = check_invariants(in);
  EXPECT_TRUE(r.ok()) << r.summary();
  EXPECT_EQ(r.peers_with_ring, 2u);
  EXPECT_EQ(r.space_ring_mismatches, 0u);
  EXPECT_EQ(r.max_unreachable_percentage, 0.0);
  EXPECT_TRUE(r.details.empty());
}

TEST(IpamInvariants, SpaceHeldByTwoPeersIsDuplicateOwnership) {
  InvariantInput in;
  in.peers = {peer(P(1), halves(P(1)), {{dot(0), dot(128)}}),
              peer(P(2), halves(P(2)), {{dot(100), dot(0) + 256}})};
  const InvariantReport r = check_invariants(in);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.duplicate_owned_addresses, 28u);
  ASSERT_EQ(r.duplicate_ownership.size(), 1u);
  EXPECT_EQ(r.duplicate_ownership[0].range, (Range{dot(100), dot(128)}));
  EXPECT_EQ(r.duplicate_ownership[0].peers, (std::vector<PeerName>{P(1), P(2)}));
  EXPECT_EQ(r.space_ring_mismatches, 1u) << "P(2) holds space its ring gives P(1)";
}

TEST(IpamInvariants, AnAddressWithTwoHoldersIsADuplicate) {
  InvariantInput in;
  in.peers = {peer(P(1), halves(P(1)), {{dot(0), dot(128)}}, {{dot(5), "a"}}),
              peer(P(2), halves(P(2)), {{dot(128), dot(0) + 256}}, {{dot(5), "b"}})};
  // And a container whose peer forgot it (a wiped store) still using .7,
  // which its peer has given to another.
  in.peers[0].idents.emplace(dot(7), "c");
  in.peers[0].allocated.push_back(Range{dot(7), dot(8)});
  in.workloads = {Workload{P(1), "old", dot(7)}};
  const InvariantReport r = check_invariants(in);
  EXPECT_EQ(r.duplicate_allocated_addresses, 2u) << r.summary();
  ASSERT_EQ(r.overlapping_allocations.size(), 2u);
  EXPECT_EQ(r.overlapping_allocations[0].address, dot(5));
  EXPECT_EQ(r.overlapping_allocations[0].holders,
            (std::vector<std::string>{"00:00:00:00:00:01 a", "00:00:00:00:00:02 b"}));
  EXPECT_EQ(r.overlapping_allocations[1].holders,
            (std::vector<std::string>{"00:00:00:00:00:01 c", "00:00:00:00:00:01 old"}));
  // P(2) uses .5, which its own ring gives P(1).
  EXPECT_EQ(r.allocated_outside_owned, 1u);
}

TEST(IpamInvariants, RingsDisagreeOnlyWithinAGroup) {
  InvariantInput in;
  in.peers = {peer(P(1), halves(P(1)), {{dot(0), dot(128)}}),
              peer(P(2), halves(P(2), 5), {{dot(128), dot(0) + 256}}),
              peer(P(3), halves(P(3)), {})};
  EXPECT_EQ(check_invariants(in).ring_disagreements, 1u) << "P(2) is the odd one out";
  in.groups = {{P(1), P(3)}, {P(2)}};
  const InvariantReport apart = check_invariants(in);
  EXPECT_EQ(apart.ring_disagreements, 0u);
  // Apart, each side sees the other's range as unreachable.
  ASSERT_EQ(apart.unreachable.size(), 3u);
  EXPECT_EQ(apart.unreachable[0].owners, 1u);
  EXPECT_DOUBLE_EQ(apart.unreachable[0].percentage, 50.0);
  EXPECT_DOUBLE_EQ(apart.max_unreachable_percentage, 50.0);
}

TEST(IpamInvariants, ABrokenRingAndARinglessAllocationAreReported) {
  InvariantInput in;
  Ring broken = testing::ring_of(P(1), {E(dot(10), P(1), 0, 0), E(dot(5), P(2), 0, 0)});
  in.peers = {peer(P(1), broken, {}), peer(P(2), std::nullopt, {}, {{dot(9), "x"}})};
  const InvariantReport r = check_invariants(in);
  EXPECT_EQ(r.invalid_rings, 1u);
  EXPECT_EQ(r.allocated_outside_owned, 1u);
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["Ok"], false);
  EXPECT_EQ(j["InvalidRings"], 1);
  EXPECT_EQ(j["Details"].size(), r.details.size());
}

}  // namespace
}  // namespace loom::ipam
