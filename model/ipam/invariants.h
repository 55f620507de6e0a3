// The IPAM invariant checker: given every running peer's allocator state
// (Allocator::snapshot) and who can reach whom, what has gone wrong across
// the network. A pure function, for tests and for the simulator's reports.
//
// What it counts (docs/ipam.md, "Invariants"):
//  - duplicate ownership: addresses two or more peers hold in their Space
//    (each would hand them out);
//  - overlapping allocations: addresses held by two or more containers,
//    across all allocators' records and the addresses running containers
//    actually use (the duplicate IPs users see; a peer restarted without
//    its store forgets what its containers still use);
//  - allocations outside owned space: in use on a peer whose own ring says
//    someone else owns them;
//  - ring disagreement: peers that can reach each other holding different
//    rings (only meaningful once gossip has had time to settle);
//  - the share of the universe each peer's ring gives to peers it cannot
//    reach (Weave's weave_ipam_unreachable_percentage).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/ipam/allocator.h"

namespace loom::ipam {

// An address a running container uses: what the simulator knows, whatever
// the allocator on its host remembers.
struct Workload {
  PeerName peer;
  std::string ident;
  Address address = 0;
};

struct InvariantInput {
  std::vector<AllocatorSnapshot> peers;  // the running peers
  // Peers that can reach each other, one list per group. Empty: all of
  // them together. A peer in no group is alone.
  std::vector<std::vector<PeerName>> groups;
  std::vector<Workload> workloads;  // optional
};

// Addresses held (or used) by more than one peer.
struct Overlap {
  Range range;
  std::vector<PeerName> peers;  // sorted
};

// An address with more than one holder.
struct DuplicateAddress {
  Address address = 0;
  std::vector<std::string> holders;  // "peer ident", sorted
};

struct UnreachableShare {
  PeerName peer;
  size_t owners = 0;      // owners in its ring it cannot reach
  double percentage = 0;  // of the universe, owned by them
};

struct InvariantReport {
  size_t peers = 0;
  size_t peers_with_ring = 0;
  uint64_t duplicate_owned_addresses = 0;
  uint64_t duplicate_allocated_addresses = 0;
  uint64_t allocated_outside_owned = 0;
  size_t ring_disagreements = 0;  // peers not holding their group's most common ring
  size_t invalid_rings = 0;       // rings breaking the ring invariants
  // Peers whose Space is not exactly what their ring says they own
  // (Weave's assertInvariants; a merge repair leaves this behind).
  size_t space_ring_mismatches = 0;
  double max_unreachable_percentage = 0;

  std::vector<Overlap> duplicate_ownership;
  std::vector<DuplicateAddress> overlapping_allocations;
  std::vector<UnreachableShare> unreachable;  // one per peer with a ring
  std::vector<std::string> details;           // the first problems, in words

  // No duplicate, overlap, stray allocation, disagreement or broken ring.
  bool ok() const {
    return duplicate_owned_addresses == 0 && duplicate_allocated_addresses == 0 &&
           allocated_outside_owned == 0 && ring_disagreements == 0 && invalid_rings == 0;
  }
  std::string summary() const;
};

InvariantReport check_invariants(const InvariantInput& input);
nlohmann::json to_json(const InvariantReport& report);

}  // namespace loom::ipam
