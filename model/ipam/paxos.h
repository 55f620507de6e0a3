// Single-value Paxos over gossip: how peers agree on the ring's first split
// when no seed is given (weave:ipam/paxos/paxos.go, participant.go;
// weave-protocol.md 2.6).
//
// Every elector is proposer, acceptor and learner at once. There are no
// Paxos messages: each node gossips what it knows of every node's claims
// (promise, accepted proposal and value), merges what it hears, and then
// thinks. The value agreed on is a list of peer names, handed to
// Ring::claim_for_peers.
//
// Observers take no part: they hold no state and never vote.
#pragma once

#include <compare>
#include <map>
#include <optional>
#include <vector>

#include <boost/container/flat_map.hpp>

#include "model/mesh/peer_name.h"

namespace loom::ipam::paxos {

using mesh::PeerName;
using mesh::PeerUID;

// The UID matters: an acceptor must not forget its promises, so a node that
// restarts without its state comes back as a new node, not as its old self.
struct NodeID {
  PeerName name;
  PeerUID uid = 0;
  friend auto operator<=>(const NodeID&, const NodeID&) = default;
};

// Ordered by (round, proposer name, proposer UID). Round 0 means "none".
struct ProposalID {
  uint64_t round = 0;
  NodeID proposer;
  bool valid() const { return round > 0; }
  friend auto operator<=>(const ProposalID&, const ProposalID&) = default;
};

// A value with the proposal that first put it forward; two accepted values
// with the same origin are the same value.
struct AcceptedValue {
  std::vector<PeerName> value;
  ProposalID origin;
  friend bool operator==(const AcceptedValue&, const AcceptedValue&) = default;
};

struct NodeClaims {
  ProposalID promise;   // accepts nothing below this
  ProposalID accepted;  // valid once it has accepted something
  AcceptedValue accepted_value;

  // Weave's equals: the value itself is not compared, only its origin.
  bool same(const NodeClaims& o) const {
    return promise == o.promise && accepted == o.accepted &&
           accepted_value.origin == o.accepted_value.origin;
  }
  friend bool operator==(const NodeClaims&, const NodeClaims&) = default;
};

// What a node gossips: its knowledge of every node's claims. A sorted
// array: at a thousand nodes it is walked several times per message.
using GossipState = boost::container::flat_map<NodeID, NodeClaims>;

struct Status {
  size_t known_nodes = 0;
  unsigned quorum = 0;
};

class Participant {
 public:
  // A voting node; the quorum may be set later (the allocator sets it when
  // consensus starts), but must be before propose().
  static Participant elector(PeerName name, PeerUID uid, unsigned quorum = 0);
  // A node that never votes and holds nothing.
  static Participant observer();

  bool is_elector() const { return elector_; }
  NodeID id() const { return id_; }
  unsigned quorum() const { return quorum_; }
  void set_quorum(unsigned quorum);
  // Empty for an observer (and for an elector that has heard nothing).
  const GossipState& gossip_state() const { return knows_; }

  // Merges what another node knows, claim by claim, keeping the higher
  // promise and the higher accepted proposal. Returns whether we learnt
  // anything.
  bool update(const GossipState& from);
  // Prepare: a promise to ourselves one round above any round we have seen.
  // With a quorum of 1 that decides at once. Needs a quorum.
  void propose();
  // Promise the highest proposal seen; accept our own once a quorum has
  // promised it; accept what others accepted for our promise. Returns
  // whether our claims changed (then the caller broadcasts).
  bool think();
  // The decided value, once a quorum accepted values of one origin.
  std::optional<AcceptedValue> consensus() const;

  Status status() const { return Status{knows_.size(), quorum_}; }

 private:
  Participant() = default;
  // Every node name we know of, sorted, each once.
  std::vector<PeerName> pick_value() const;

  bool elector_ = false;
  NodeID id_;
  unsigned quorum_ = 0;
  GossipState knows_;
};

// Quorum for --ipalloc-init=consensus=N: N/2 + 1.
unsigned quorum_for_peer_count(unsigned peer_count);
// Quorum guessed from the peers we were told to connect to: they may or
// may not include us, so assume not, (targets + 1)/2 + 1.
unsigned quorum_for_targets(size_t target_count);
// A consensus value as the ring wants it: sorted, without repeats (Weave's
// normalizeConsensus).
std::vector<PeerName> normalize_consensus(std::vector<PeerName> value);

}  // namespace loom::ipam::paxos
