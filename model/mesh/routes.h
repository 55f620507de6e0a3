// Routes: unicast next hops and per-source broadcast trees, a pure function
// of the topology and our name (mesh:routes.go, peer.go; weave-protocol.md
// 1.6). Built once per recalculation from a Peers snapshot; broadcast next
// hops are computed per source on first use and cached until the next
// recalculation (a new Routes).
//
// Two variants of everything: over established and symmetric connections
// only (the data plane's), and over all connections (gossip's "All").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "model/mesh/peer_name.h"
#include "model/mesh/peers.h"

namespace loom::mesh {

class Routes {
 public:
  enum class Over { established_symmetric, all_connections };

  explicit Routes(const Peers& peers);
  ~Routes();
  Routes(Routes&&) noexcept;
  Routes& operator=(Routes&&) noexcept;

  PeerName ourselves() const { return ourselves_; }
  // Every peer of the topology, sorted.
  const std::vector<PeerName>& peers() const { return names_; }

  // Next hop toward dst (dst itself for a neighbour); none when unreachable,
  // and for ourselves.
  std::optional<PeerName> unicast(PeerName dst) const {
    return next_hop(Over::established_symmetric, dst);
  }
  std::optional<PeerName> unicast_all(PeerName dst) const {
    return next_hop(Over::all_connections, dst);
  }
  std::optional<PeerName> next_hop(Over over, PeerName dst) const;
  // The whole table, (destination, next hop) sorted by destination.
  std::vector<std::pair<PeerName, PeerName>> table(Over over) const;
  // How many destinations route through each next hop, sorted by hop.
  std::vector<std::pair<PeerName, uint64_t>> next_hop_counts(Over over) const;
  // The unicast tables (both variants) equal other's.
  bool same_unicast(const Routes& other) const;

  // Whom we pass a broadcast from src to: sorted. Empty when src is unknown
  // or its tree does not reach us.
  const std::vector<PeerName>& broadcast(PeerName src) {
    return broadcast(Over::established_symmetric, src);
  }
  const std::vector<PeerName>& broadcast_all(PeerName src) {
    return broadcast(Over::all_connections, src);
  }
  const std::vector<PeerName>& broadcast(Over over, PeerName src);

 private:
  struct Variant;
  const Variant& variant(Over over) const;
  Variant& variant(Over over);

  PeerName ourselves_;
  std::vector<PeerName> names_;  // vertex i is names_[i]
  size_t self_ = 0;
  std::unique_ptr<Variant> symmetric_;
  std::unique_ptr<Variant> all_;
};

}  // namespace loom::mesh
