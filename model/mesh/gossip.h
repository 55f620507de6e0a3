// The gossip channel API (mesh:gossip.go): how IPAM, DNS and the topology
// plug into the mesh.
//
// A channel is a named logical channel over the mesh ("topology",
// "IPallocation", "nameserver"). An engine implements Gossiper (the
// receiving side) and GossipData (its mergeable state), and sends through
// Gossip. Merge returning only what is new is what stops propagation.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/bytes.h"
#include "model/mesh/peer_name.h"
#include "model/result.h"

namespace loom::mesh {

// A mergeable set of updates; think log-structured data. Immutable once
// made: a GossipData may be queued on many connections at once.
class GossipData {
 public:
  virtual ~GossipData() = default;
  // One or more messages, each sent as one gossip payload.
  virtual std::vector<Bytes> encode() const = 0;
  // This combined with other (of the same channel, hence the same type),
  // as a new object; neither input changes.
  virtual std::unique_ptr<GossipData> merge(const GossipData& other) const = 0;
};

using GossipDataPtr = std::shared_ptr<const GossipData>;

// The receiving side, implemented by each engine that gossips.
class Gossiper {
 public:
  virtual ~Gossiper() = default;
  // A message addressed to us by src.
  virtual Result<void> on_gossip_unicast(PeerName src, ByteView msg) = 0;
  // Merges a broadcast from src; returns what to relay along src's
  // broadcast tree (null: nothing).
  virtual Result<std::unique_ptr<GossipData>> on_gossip_broadcast(PeerName src,
                                                                  ByteView update) = 0;
  // Everything we know: sent periodically and to new neighbours. May be null.
  virtual std::unique_ptr<GossipData> gossip() = 0;
  // Merges gossip; returns everything new we just learnt, or null when
  // nothing was (which stops its propagation).
  virtual Result<std::unique_ptr<GossipData>> on_gossip(ByteView msg) = 0;
};

// The sending side, one per channel, given to the engine.
class Gossip {
 public:
  virtual ~Gossip() = default;
  // To one peer, hop by hop along unicast routes. Fails when there is no route.
  virtual Result<void> gossip_unicast(PeerName dst, ByteView msg) = 0;
  // To every peer, along our broadcast tree.
  virtual void gossip_broadcast(GossipDataPtr update) = 0;
  // To a random subset of neighbours (weave-protocol.md 1.7), who pass on
  // what is new to them.
  virtual void gossip_neighbour_subset(GossipDataPtr data) = 0;
};

// The three gossip protocol messages (weave-protocol.md 1.3), decoded. The
// wire codec lives with the protocol; channels and senders speak this.
struct GossipMessage {
  enum class Kind { unicast, broadcast, gossip };
  Kind kind = Kind::gossip;
  std::string channel;
  // unicast: the origin; broadcast: the origin (whose tree it follows);
  // gossip: the peer that sent it on this hop.
  PeerName source;
  PeerName destination;  // unicast only
  Bytes payload;
};

}  // namespace loom::mesh
