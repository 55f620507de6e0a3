#include "model/ipam/paxos.h"

#include <algorithm>
#include <cassert>

namespace loom::ipam::paxos {

Participant Participant::elector(PeerName name, PeerUID uid, unsigned quorum) {
  Participant p;
  p.elector_ = true;
  p.id_ = NodeID{name, uid};
  p.quorum_ = quorum;
  return p;
}

Participant Participant::observer() { return Participant(); }

void Participant::set_quorum(unsigned quorum) {
  if (elector_) quorum_ = quorum;
}

bool Participant::update(const GossipState& from) {
  if (!elector_) return false;
  bool changed = false;
  for (const auto& [node, theirs] : from) {
    auto it = knows_.find(node);
    if (it == knows_.end()) {
      knows_.emplace(node, theirs);
      changed = true;
      continue;
    }
    NodeClaims& claims = it->second;
    if (claims.promise < theirs.promise) {
      claims.promise = theirs.promise;
      changed = true;
    }
    if (claims.accepted < theirs.accepted) {
      claims.accepted = theirs.accepted;
      claims.accepted_value = theirs.accepted_value;
      changed = true;
    }
  }
  return changed;
}

void Participant::propose() {
  if (!elector_) return;
  assert(quorum_ > 0 && "Paxos propose() called with no quorum set");
  uint64_t round = 0;
  for (const auto& [node, claims] : knows_) {
    round = std::max({round, claims.promise.round, claims.accepted.round});
  }
  knows_[id_].promise = ProposalID{round + 1, id_};
  if (quorum_ == 1) think();
}

bool Participant::think() {
  if (!elector_) return false;
  const auto mine = knows_.find(id_);
  const NodeClaims before = mine == knows_.end() ? NodeClaims{} : mine->second;
  NodeClaims ours = before;

  // Promise: the highest promise anyone has made.
  for (const auto& [node, claims] : knows_) {
    if (ours.promise < claims.promise) ours.promise = claims.promise;
  }

  // Accept request: our proposal is in the running only while it is also
  // our promise. Once a quorum promised it, accept it with the value of the
  // highest proposal any of them accepted, or else with a value of ours.
  if (ours.promise.proposer == id_) {
    unsigned count = 0;
    ProposalID accepted;
    AcceptedValue value;
    for (const auto& [node, claims] : knows_) {
      if (claims.promise != ours.promise) continue;
      ++count;
      if (accepted < claims.accepted) {
        accepted = claims.accepted;
        value = claims.accepted_value;
      }
    }
    if (count >= quorum_) {
      if (!accepted.valid()) value = AcceptedValue{pick_value(), ours.promise};
      ours.accepted = ours.promise;
      ours.accepted_value = value;
    }
  }

  // Accepted: if anyone accepted the proposal we promised, so do we.
  for (const auto& [node, claims] : knows_) {
    if (claims.accepted == ours.promise) {
      ours.accepted = claims.accepted;
      ours.accepted_value = claims.accepted_value;
      break;
    }
  }

  if (ours.same(before)) return false;
  knows_[id_] = ours;
  return true;
}

std::optional<AcceptedValue> Participant::consensus() const {
  if (!elector_) return std::nullopt;
  std::map<ProposalID, unsigned> counts;
  for (const auto& [node, claims] : knows_) {
    if (!claims.accepted.valid()) continue;
    if (++counts[claims.accepted_value.origin] >= quorum_) return claims.accepted_value;
  }
  return std::nullopt;
}

std::vector<PeerName> Participant::pick_value() const {
  std::vector<PeerName> names;
  names.reserve(knows_.size());
  for (const auto& [node, claims] : knows_) names.push_back(node.name);
  return normalize_consensus(std::move(names));
}

unsigned quorum_for_peer_count(unsigned peer_count) { return peer_count / 2 + 1; }

unsigned quorum_for_targets(size_t target_count) {
  return static_cast<unsigned>((target_count + 1) / 2 + 1);
}

std::vector<PeerName> normalize_consensus(std::vector<PeerName> value) {
  std::sort(value.begin(), value.end());
  value.erase(std::unique(value.begin(), value.end()), value.end());
  return value;
}

}  // namespace loom::ipam::paxos
