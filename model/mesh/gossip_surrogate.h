// SurrogateGossiper: carries a channel this peer has no engine for
// (mesh:surrogate_gossiper.go), so that peers without a feature (say, DNS)
// still relay its traffic.
//
// Unicasts addressed to us are dropped; broadcasts are relayed unchanged;
// gossip is relayed unless an identical payload (FNV-64a, then the bytes)
// was seen within the last gossip interval, which would otherwise circulate
// forever since a surrogate cannot tell old from new.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "model/host.h"
#include "model/mesh/gossip.h"

namespace loom::mesh {

// Opaque messages, merged by concatenation.
class SurrogateGossipData final : public GossipData {
 public:
  explicit SurrogateGossipData(std::vector<Bytes> messages) : messages_(std::move(messages)) {}
  std::vector<Bytes> encode() const override { return messages_; }
  std::unique_ptr<GossipData> merge(const GossipData& other) const override;

 private:
  std::vector<Bytes> messages_;
};

class SurrogateGossiper final : public Gossiper {
 public:
  SurrogateGossiper(Host& host, Time gossip_interval);

  Result<void> on_gossip_unicast(PeerName src, ByteView msg) override;
  Result<std::unique_ptr<GossipData>> on_gossip_broadcast(PeerName src, ByteView update) override;
  std::unique_ptr<GossipData> gossip() override { return nullptr; }
  Result<std::unique_ptr<GossipData>> on_gossip(ByteView msg) override;

 private:
  struct Seen {
    uint64_t hash;
    Bytes update;
    Time at;
  };

  Host& host_;
  Time gossip_interval_;
  std::deque<Seen> seen_;  // oldest first
};

// FNV-1a, 64 bits (Go's hash/fnv New64a).
uint64_t fnv64a(ByteView bytes);

}  // namespace loom::mesh
