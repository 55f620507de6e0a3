// DiscoveryIndex: what discovery may dial, by remote peer, kept up to date
// record by record (weave-protocol.md 1.9, "Discovery").
//
// Weave's connection maker scans every connection of every known peer at
// each check, and it checks on every topology change: O(N^2) per change,
// hence O(N^3) and worse over a formation, which in a simulation is wall
// time (at 300 peers, most of it). This index gives the maker the same
// targets from O(N) entries: for each remote peer, the addresses that other
// peers (not we) report for their connections to it, with the mesh port
// already put in place of an inbound connection's ephemeral one. The mesh
// updates it with each merge's changed and removed peers.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <boost/container/flat_map.hpp>

#include "model/address.h"
#include "model/mesh/connection_maker.h"
#include "model/mesh/peer_name.h"
#include "model/mesh/peers.h"

namespace loom::mesh {

class DiscoveryIndex {
 public:
  // ourselves: our record and connections to us are not indexed (the maker
  // ignores them). mesh_port: what an inbound connection's address becomes.
  DiscoveryIndex(PeerName ourselves, uint16_t mesh_port)
      : ourselves_(ourselves), mesh_port_(mesh_port) {}

  // Re-reads the records of these peers from peers (sorted or not); a name
  // peers no longer knows is forgotten.
  void update(const Peers& peers, const PeerNameSet& names);

  // For the maker: one entry per remote peer, its connections the distinct
  // target addresses reported for it (outbound, so the maker takes them as
  // they are). The entries' names are unknown: the maker reads only the
  // connections. In remote order.
  std::vector<KnownPeer> known_peers() const;
  // The same pairs, visited in the same order without building the list.
  template <class Visit>
  void for_each_target(Visit&& visit) const {
    for (const auto& [remote, addresses] : by_remote_) {
      for (const auto& [address, count] : addresses) visit(remote, address);
    }
  }

  // Distinct (remote, address) pairs indexed.
  size_t size() const;

  // Changes whenever known_peers() would give something different (a pair
  // gained or lost), and only then: the maker re-reads it on a change.
  uint64_t version() const { return version_; }

 private:
  using Target = std::pair<PeerName, Endpoint>;  // remote, address to dial
  void add(const Target& t);
  void remove(const Target& t);

  PeerName ourselves_;
  uint16_t mesh_port_;
  // What each reporter contributed, to take it back when its record changes.
  boost::container::flat_map<PeerName, std::vector<Target>> by_reporter_;
  // Remote -> address -> how many reporters report it. Ordered: known_peers()
  // must not depend on hashing.
  // Sorted arrays rather than trees: the maker walks all of it at every
  // topology change that taught discovery something.
  boost::container::flat_map<PeerName, boost::container::flat_map<Endpoint, uint32_t>> by_remote_;
  uint64_t version_ = 0;
};

}  // namespace loom::mesh
