#include "model/mesh/topology_gossip.h"

namespace loom::mesh {

std::vector<Bytes> TopologyGossipData::encode() const {
  if (!encoded_valid_ || encoded_generation_ != peers_.generation()) {
    encoded_ = peers_.encode(names_);
    encoded_generation_ = peers_.generation();
    encoded_valid_ = true;
  }
  return {encoded_};
}

std::unique_ptr<GossipData> TopologyGossipData::merge(const GossipData& other) const {
  const auto& o = static_cast<const TopologyGossipData&>(other);
  return std::make_unique<TopologyGossipData>(peers_, merge_names(names_, o.names_));
}

Result<MergeResult> TopologyGossiper::apply(ByteView update) {
  ++updates_received_;
  bytes_received_ += update.size();
  auto merged = peers_.merge(update);
  if (!merged) return merged.error();
  if (!merged->changed.empty() || !merged->removed.empty() || merged->ourselves_bumped) {
    if (changed_) changed_(*merged);
  }
  return merged;
}

Result<void> TopologyGossiper::on_gossip_unicast(PeerName, ByteView msg) {
  return make_error("unexpected topology gossip unicast of " + std::to_string(msg.size()) +
                    " bytes");
}

Result<std::unique_ptr<GossipData>> TopologyGossiper::on_gossip_broadcast(PeerName,
                                                                          ByteView update) {
  auto merged = apply(update);
  if (!merged) return merged.error();
  if (merged->received.empty()) return std::unique_ptr<GossipData>();
  return std::unique_ptr<GossipData>(
      std::make_unique<TopologyGossipData>(peers_, std::move(merged->received)));
}

std::unique_ptr<GossipData> TopologyGossiper::gossip() {
  PeerNameSet names;
  names.reserve(peers_.size());
  for (const Peer& p : peers_.all()) names.push_back(p.name);
  return std::make_unique<TopologyGossipData>(peers_, std::move(names));
}

Result<std::unique_ptr<GossipData>> TopologyGossiper::on_gossip(ByteView msg) {
  auto merged = apply(msg);
  if (!merged) return merged.error();
  if (merged->changed.empty()) return std::unique_ptr<GossipData>();
  return std::unique_ptr<GossipData>(
      std::make_unique<TopologyGossipData>(peers_, std::move(merged->changed)));
}

}  // namespace loom::mesh
