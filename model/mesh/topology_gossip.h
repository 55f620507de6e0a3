// TopologyGossip: the built-in "topology" gossip channel's data and
// receiving side (mesh:router.go topologyGossipData, Router.OnGossip*;
// weave-protocol.md 1.4, 1.7).
//
// The data is a set of peer names over the live Peers: it is encoded when
// it is sent, so a slow connection carries the latest records, and merging
// two pending updates is the union of their names.
#pragma once

#include <functional>
#include <memory>

#include "model/mesh/gossip.h"
#include "model/mesh/peers.h"

namespace loom::mesh {

inline constexpr const char* kTopologyChannel = "topology";

class TopologyGossipData final : public GossipData {
 public:
  // peers outlives the data (the mesh owns both, and the connections that
  // queue the data).
  TopologyGossipData(const Peers& peers, PeerNameSet names)
      : peers_(peers), names_(std::move(names)) {}

  // Encoded from the live Peers; the same data queued on many connections
  // is encoded once while the topology stays the same.
  std::vector<Bytes> encode() const override;
  std::unique_ptr<GossipData> merge(const GossipData& other) const override;
  const PeerNameSet& names() const { return names_; }

 private:
  const Peers& peers_;
  PeerNameSet names_;
  mutable Bytes encoded_;
  mutable uint64_t encoded_generation_ = 0;
  mutable bool encoded_valid_ = false;
};

class TopologyGossiper final : public Gossiper {
 public:
  // changed is told of every merge that changed something (the mesh then
  // recalculates routes, refreshes the connection maker, arms GC).
  TopologyGossiper(Peers& peers, std::function<void(const MergeResult&)> changed)
      : peers_(peers), changed_(std::move(changed)) {}

  // Topology is never unicast: an error, which closes the connection.
  Result<void> on_gossip_unicast(PeerName src, ByteView msg) override;
  // Relays every record received (Weave's origUpdate).
  Result<std::unique_ptr<GossipData>> on_gossip_broadcast(PeerName src, ByteView update) override;
  // Every peer.
  std::unique_ptr<GossipData> gossip() override;
  // Relays only what changed here (newUpdate): that is what stops it.
  Result<std::unique_ptr<GossipData>> on_gossip(ByteView msg) override;

  uint64_t updates_received() const { return updates_received_; }
  uint64_t bytes_received() const { return bytes_received_; }

 private:
  Result<MergeResult> apply(ByteView update);

  Peers& peers_;
  std::function<void(const MergeResult&)> changed_;
  uint64_t updates_received_ = 0;
  uint64_t bytes_received_ = 0;
};

}  // namespace loom::mesh
