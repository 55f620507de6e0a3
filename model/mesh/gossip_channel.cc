#include "model/mesh/gossip_channel.h"

#include <utility>

namespace loom::mesh {

GossipChannel::GossipChannel(std::string name, Gossiper& gossiper, GossipRouter& router)
    : name_(std::move(name)), gossiper_(gossiper), router_(router) {}

Result<void> GossipChannel::deliver(const GossipMessage& msg) {
  switch (msg.kind) {
    case GossipMessage::Kind::unicast:
      if (msg.destination == router_.ourself()) {
        return gossiper_.on_gossip_unicast(msg.source, msg.payload);
      }
      (void)relay_unicast(msg);  // mesh only logs a failed relay
      return {};
    case GossipMessage::Kind::broadcast: {
      auto data = gossiper_.on_gossip_broadcast(msg.source, msg.payload);
      if (!data) return data.error();
      if (*data) relay_broadcast(msg.source, GossipDataPtr(std::move(*data)));
      return {};
    }
    case GossipMessage::Kind::gossip: {
      auto update = gossiper_.on_gossip(msg.payload);
      if (!update) return update.error();
      if (*update) relay(msg.source, GossipDataPtr(std::move(*update)));
      return {};
    }
  }
  return {};
}

Result<void> GossipChannel::gossip_unicast(PeerName dst, ByteView msg) {
  return relay_unicast(
      GossipMessage{GossipMessage::Kind::unicast, name_, router_.ourself(), dst, msg.to_bytes()});
}

void GossipChannel::gossip_broadcast(GossipDataPtr update) {
  relay_broadcast(router_.ourself(), update);
}

void GossipChannel::gossip_neighbour_subset(GossipDataPtr data) { relay(router_.ourself(), data); }

void GossipChannel::send_all_gossip() {
  if (auto data = gossiper_.gossip()) relay(router_.ourself(), GossipDataPtr(std::move(data)));
}

void GossipChannel::send_all_gossip_down(PeerName neighbour) {
  auto data = gossiper_.gossip();
  if (!data) return;
  if (GossipSender* s = router_.sender_for(neighbour, name_)) s->send(std::move(data));
}

Result<void> GossipChannel::relay_unicast(const GossipMessage& msg) {
  auto hop = router_.unicast_next_hop(msg.destination);
  if (!hop) return make_error("unknown relay destination: " + msg.destination.to_string());
  return router_.send_unicast(*hop, msg);
}

// Both relays pick their next hops from routes that include every change
// so far, as mesh's (ensureRecalculated) do.
void GossipChannel::relay_broadcast(PeerName source, const GossipDataPtr& data) {
  if (!data) return;
  std::weak_ptr<int> alive = alive_;
  router_.when_routes_current([this, alive, source, data] {
    if (alive.expired()) return;
    for (PeerName hop : router_.broadcast_next_hops(source)) {
      if (GossipSender* s = router_.sender_for(hop, name_)) s->broadcast(source, data);
    }
  });
}

void GossipChannel::relay(PeerName source, const GossipDataPtr& data) {
  if (!data) return;
  std::weak_ptr<int> alive = alive_;
  router_.when_routes_current([this, alive, source, data] {
    if (alive.expired()) return;
    for (PeerName hop : router_.random_neighbours(source)) {
      if (GossipSender* s = router_.sender_for(hop, name_)) s->send(data);
    }
  });
}

}  // namespace loom::mesh
