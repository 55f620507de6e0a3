#include "model/mesh/gossip_surrogate.h"

#include <algorithm>

namespace loom::mesh {

uint64_t fnv64a(ByteView bytes) {
  uint64_t h = 14695981039346656037ULL;
  for (uint8_t b : bytes) {
    h ^= b;
    h *= 1099511628211ULL;
  }
  return h;
}

std::unique_ptr<GossipData> SurrogateGossipData::merge(const GossipData& other) const {
  std::vector<Bytes> all = messages_;
  for (Bytes& m : other.encode()) all.push_back(std::move(m));
  return std::make_unique<SurrogateGossipData>(std::move(all));
}

SurrogateGossiper::SurrogateGossiper(Host& host, Time gossip_interval)
    : host_(host), gossip_interval_(gossip_interval) {}

Result<void> SurrogateGossiper::on_gossip_unicast(PeerName, ByteView) { return {}; }

Result<std::unique_ptr<GossipData>> SurrogateGossiper::on_gossip_broadcast(PeerName,
                                                                           ByteView update) {
  return std::unique_ptr<GossipData>(
      std::make_unique<SurrogateGossipData>(std::vector<Bytes>{update.to_bytes()}));
}

Result<std::unique_ptr<GossipData>> SurrogateGossiper::on_gossip(ByteView msg) {
  const Time now = host_.now();
  // Forget what is older than the interval, so that the list stays short
  // and a payload seen long ago is relayed again.
  while (!seen_.empty() && seen_.front().at < now - gossip_interval_) seen_.pop_front();
  const uint64_t hash = fnv64a(msg);
  for (const Seen& s : seen_) {
    if (s.hash == hash && std::equal(s.update.begin(), s.update.end(), msg.begin(), msg.end())) {
      return std::unique_ptr<GossipData>();
    }
  }
  seen_.push_back(Seen{hash, msg.to_bytes(), now});
  return std::unique_ptr<GossipData>(
      std::make_unique<SurrogateGossipData>(std::vector<Bytes>{msg.to_bytes()}));
}

}  // namespace loom::mesh
