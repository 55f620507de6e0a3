// Paxos over gossip: electors exchanging their whole state, delivered in
// random order, agree on one value; observers never vote; a quorum set too
// small lets two groups each decide (Weave's failure 2.10.1).
#include "model/ipam/paxos.h"

#include <gtest/gtest.h>

#include "model/ipam/ring.h"
#include "model/random.h"
#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam::paxos {
namespace {

using testing::P;

// A few nodes and a bag of gossip in flight, delivered in random order
// (sometimes twice), with retries: the allocator's loop in miniature.
// Receiving: update; if that taught us something, think, broadcast if our
// claims changed, and check for consensus. A tick re-proposes while
// undecided.
class PaxosNet {
 public:
  PaxosNet(size_t electors, unsigned quorum, uint64_t seed, size_t observers = 0) : random_(seed) {
    for (size_t i = 0; i < electors; ++i)
      nodes_.push_back(Participant::elector(P(i + 1), 100 + i, quorum));
    for (size_t i = 0; i < observers; ++i) nodes_.push_back(Participant::observer());
    decided_.resize(nodes_.size());
    group_.assign(nodes_.size(), 0);
  }

  // Nodes only hear others of the same group (a partition).
  void set_group(size_t node, int group) { group_[node] = group; }

  void propose(size_t i) {
    nodes_[i].propose();
    broadcast(i);
    check(i);
  }

  // Runs until every elector decided or `steps` events passed.
  void run(size_t steps) {
    for (size_t s = 0; s < steps && !all_decided(); ++s) {
      // Gossip is fast next to the 5 s tick: ticks come rarely while
      // anything is in flight.
      if (!queue_.empty() && !random_.chance(0.001)) {
        const size_t k = random_.below(queue_.size());
        Message m = std::move(queue_[k]);
        queue_[k] = std::move(queue_.back());
        queue_.pop_back();
        if (random_.chance(0.05)) queue_.push_back(m);  // delivered again later
        receive(m.to, m.state);
      } else {
        // A 5 s tick somewhere: propose again if still waiting.
        const size_t i = random_.below(nodes_.size());
        if (nodes_[i].is_elector() && !decided_[i]) propose(i);
      }
    }
  }

  bool all_decided() const {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].is_elector() && !decided_[i]) return false;
    }
    return true;
  }
  const std::optional<AcceptedValue>& decided(size_t i) const { return decided_[i]; }
  Participant& node(size_t i) { return nodes_[i]; }
  size_t size() const { return nodes_.size(); }
  // Set when a node's consensus ever changed after it first decided.
  bool flipped() const { return flipped_; }

 private:
  struct Message {
    size_t to;
    GossipState state;
  };

  void broadcast(size_t from) {
    for (size_t to = 0; to < nodes_.size(); ++to) {
      if (to != from && group_[to] == group_[from]) {
        queue_.push_back(Message{to, nodes_[from].gossip_state()});
      }
    }
  }

  void receive(size_t i, const GossipState& state) {
    if (!nodes_[i].update(state)) return;
    if (nodes_[i].think()) broadcast(i);
    check(i);
  }

  void check(size_t i) {
    const auto c = nodes_[i].consensus();
    if (!c) return;
    if (decided_[i] && !(*decided_[i] == *c)) flipped_ = true;
    if (!decided_[i]) decided_[i] = c;
  }

  Random random_;
  std::vector<Participant> nodes_;
  std::vector<std::optional<AcceptedValue>> decided_;
  std::vector<int> group_;
  std::vector<Message> queue_;
  bool flipped_ = false;
};

void expect_agreement(size_t electors, unsigned quorum, bool everyone_proposes) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    PaxosNet net(electors, quorum, seed);
    if (everyone_proposes) {
      for (size_t i = 0; i < electors; ++i) net.propose(i);
    } else {
      net.propose(seed % electors);
    }
    net.run(200000);
    ASSERT_TRUE(net.all_decided()) << "seed " << seed;
    ASSERT_FALSE(net.flipped()) << "seed " << seed;
    const AcceptedValue& v = *net.decided(0);
    for (size_t i = 1; i < electors; ++i) {
      ASSERT_EQ(*net.decided(i), v) << "seed " << seed << " node " << i;
    }
    // The value: peer names the proposer knew, sorted, each once, at least
    // a quorum of them.
    EXPECT_GE(v.value.size(), quorum);
    EXPECT_TRUE(std::is_sorted(v.value.begin(), v.value.end()));
    EXPECT_EQ(normalize_consensus(v.value), v.value);
    for (PeerName n : v.value) EXPECT_TRUE(n.value >= 1 && n.value <= electors);
  }
}

TEST(Paxos, ThreeElectorsAgreeWhateverTheDeliveryOrder) { expect_agreement(3, 2, false); }
TEST(Paxos, ThreeElectorsAllProposingAgree) { expect_agreement(3, 2, true); }
TEST(Paxos, FiveElectorsAgreeWhateverTheDeliveryOrder) { expect_agreement(5, 3, false); }
TEST(Paxos, FiveElectorsAllProposingAgree) { expect_agreement(5, 3, true); }

TEST(Paxos, QuorumOfOneDecidesOnProposing) {
  Participant p = Participant::elector(P(7), 1, 1);
  EXPECT_FALSE(p.consensus().has_value());
  p.propose();
  const auto c = p.consensus();
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->value, (std::vector<PeerName>{P(7)}));
  EXPECT_EQ(c->origin, (ProposalID{1, NodeID{P(7), 1}}));
}

TEST(Paxos, ProposalsAreOrderedByRoundThenNameThenUid) {
  const ProposalID a{1, {P(9), 9}};
  const ProposalID b{2, {P(1), 1}};
  const ProposalID c{2, {P(2), 1}};
  const ProposalID d{2, {P(2), 5}};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(c, d);
  EXPECT_FALSE(ProposalID{}.valid());
  EXPECT_TRUE(a.valid());
}

TEST(Paxos, UpdateKeepsTheHigherPromiseAndTheHigherAcceptance) {
  Participant p = Participant::elector(P(1), 1, 2);
  const NodeID other{P(2), 2};
  const ProposalID low{1, other};
  const ProposalID high{3, other};
  GossipState s;
  s[other] = NodeClaims{high, low, AcceptedValue{{P(2)}, low}};
  EXPECT_TRUE(p.update(s));
  EXPECT_FALSE(p.update(s));  // nothing new

  GossipState older;
  older[other] = NodeClaims{low, ProposalID{}, AcceptedValue{}};
  EXPECT_FALSE(p.update(older));
  EXPECT_EQ(p.gossip_state().at(other).promise, high);
  EXPECT_EQ(p.gossip_state().at(other).accepted, low);

  GossipState newer;
  newer[other] = NodeClaims{low, high, AcceptedValue{{P(2), P(3)}, high}};
  EXPECT_TRUE(p.update(newer));
  EXPECT_EQ(p.gossip_state().at(other).promise, high);
  EXPECT_EQ(p.gossip_state().at(other).accepted_value.value, (std::vector<PeerName>{P(2), P(3)}));
}

TEST(Paxos, ProposeGoesOneRoundAboveAnythingSeen) {
  Participant p = Participant::elector(P(1), 1, 3);
  GossipState s;
  s[NodeID{P(2), 2}] = NodeClaims{ProposalID{4, {P(2), 2}}, ProposalID{6, {P(3), 3}}, {}};
  p.update(s);
  p.propose();
  EXPECT_EQ(p.gossip_state().at(p.id()).promise, (ProposalID{7, p.id()}));
}

// The reason NodeID carries the UID: a node that restarts without its Paxos
// state and proposes again must not collect the promises made to its old
// self's proposal of the same round.
TEST(Paxos, ARestartedNodeCannotReuseItsOldPromises) {
  auto run = [](PeerUID restarted_uid) {
    Participant a1 = Participant::elector(P(1), 1, 2);
    Participant b = Participant::elector(P(2), 2, 2);
    Participant c = Participant::elector(P(3), 3, 2);
    a1.propose();  // round 1 from (P1, uid 1)
    b.update(a1.gossip_state());
    b.think();
    c.update(a1.gossip_state());
    c.think();
    // A crashes before hearing back, and comes back with nothing.
    Participant a2 = Participant::elector(P(1), restarted_uid, 2);
    a2.propose();
    a2.update(b.gossip_state());
    a2.update(c.gossip_state());
    a2.think();
    return a2.gossip_state().at(a2.id()).accepted.valid();
  };
  // A new UID: a new proposal; the promises were made to the old one.
  EXPECT_FALSE(run(2));
  // Were the UID reused, B's and C's promises would count for it at once.
  EXPECT_TRUE(run(1));
}

TEST(Paxos, ObserversNeverVote) {
  Participant o = Participant::observer();
  EXPECT_FALSE(o.is_elector());
  o.propose();
  EXPECT_TRUE(o.gossip_state().empty());
  GossipState s;
  s[NodeID{P(2), 2}] = NodeClaims{ProposalID{1, {P(2), 2}}, {}, {}};
  EXPECT_FALSE(o.update(s));
  EXPECT_FALSE(o.think());
  EXPECT_FALSE(o.consensus().has_value());

  // One elector needing a quorum of two, and two observers: stuck (Weave's
  // "Observers can't vote" test).
  PaxosNet net(1, 2, 5, 2);
  net.propose(0);
  net.run(5000);
  EXPECT_FALSE(net.decided(0).has_value());
  // A second elector gets it through, and the value names electors only.
  PaxosNet net2(2, 2, 5, 2);
  net2.propose(0);
  net2.run(5000);
  ASSERT_TRUE(net2.decided(0).has_value());
  EXPECT_EQ(net2.decided(0)->value, (std::vector<PeerName>{P(1), P(2)}));
}

TEST(Paxos, QuorumRules) {
  // consensus=N: N/2 + 1.
  EXPECT_EQ(quorum_for_peer_count(1), 1u);
  EXPECT_EQ(quorum_for_peer_count(2), 2u);
  EXPECT_EQ(quorum_for_peer_count(3), 2u);
  EXPECT_EQ(quorum_for_peer_count(4), 3u);
  EXPECT_EQ(quorum_for_peer_count(5), 3u);
  // From the peers we were told to connect to, assumed not to include us.
  EXPECT_EQ(quorum_for_targets(0), 1u);
  EXPECT_EQ(quorum_for_targets(1), 2u);
  EXPECT_EQ(quorum_for_targets(2), 2u);
  EXPECT_EQ(quorum_for_targets(3), 3u);
  EXPECT_EQ(normalize_consensus({P(3), P(1), P(3), P(2)}),
            (std::vector<PeerName>{P(1), P(2), P(3)}));
  EXPECT_EQ((Participant::elector(P(1), 1, 3).status().quorum), 3u);
}

// weave-protocol.md 2.10.1: six peers started with consensus=3 (quorum 2)
// in two groups that cannot reach each other. Each group decides on its own
// ring, and when they meet the rings refuse each other for good.
TEST(Paxos, QuorumTooSmallLetsDisjointGroupsEachDecide) {
  PaxosNet net(6, quorum_for_peer_count(3), 11);
  for (size_t i = 3; i < 6; ++i) net.set_group(i, 1);
  net.propose(0);
  net.propose(3);
  net.run(200000);
  ASSERT_TRUE(net.all_decided());
  const auto a = net.decided(0)->value;
  const auto b = net.decided(3)->value;
  // Each value names peers of its own group only (at least a quorum of
  // them: a proposer names the peers it has heard of).
  ASSERT_GE(a.size(), 2u);
  ASSERT_GE(b.size(), 2u);
  for (PeerName n : a) EXPECT_TRUE(n.value >= 1 && n.value <= 3);
  for (PeerName n : b) EXPECT_TRUE(n.value >= 4 && n.value <= 6);
  for (size_t i = 1; i < 3; ++i) EXPECT_EQ(net.decided(i)->value, a);
  for (size_t i = 4; i < 6; ++i) EXPECT_EQ(net.decided(i)->value, b);

  Ring ring_a(testing::kUniverse, P(1));
  Ring ring_b(testing::kUniverse, P(4));
  ASSERT_TRUE(ring_a.claim_for_peers(a).ok());
  ASSERT_TRUE(ring_b.claim_for_peers(b).ok());
  MergeError why{};
  const auto merged = ring_a.merge(ring_b, testing::no_allocations, &why);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(why, MergeError::different_seeds);
  EXPECT_EQ(merged.error().message.rfind("IP allocation was seeded by different peers", 0), 0u);
}

TEST(Paxos, RightQuorumKeepsDisjointGroupsWaiting) {
  PaxosNet net(6, quorum_for_peer_count(6), 11);
  for (size_t i = 3; i < 6; ++i) net.set_group(i, 1);
  net.propose(0);
  net.propose(3);
  net.run(20000);
  for (size_t i = 0; i < 6; ++i) EXPECT_FALSE(net.decided(i).has_value()) << i;
}

}  // namespace
}  // namespace loom::ipam::paxos
