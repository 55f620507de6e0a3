#include "model/mesh/gossip_sender.h"

#include <utility>

namespace loom::mesh {

GossipSender::GossipSender(std::string channel, PeerName ourself, Transmit transmit, Busy busy)
    : channel_(std::move(channel)),
      ourself_(ourself),
      transmit_(std::move(transmit)),
      busy_(std::move(busy)) {}

void GossipSender::send(GossipDataPtr data) {
  if (!data) return;
  gossip_ = gossip_ ? GossipDataPtr(gossip_->merge(*data)) : std::move(data);
  deliver();
}

void GossipSender::broadcast(PeerName source, GossipDataPtr data) {
  if (!data) return;
  auto [it, added] = broadcasts_.try_emplace(source, data);
  if (!added) it->second = it->second->merge(*data);
  deliver();
}

void GossipSender::ready() { deliver(); }

// One item at a time: everything an item encodes to goes out together, then
// the connection's backlog decides whether the next follows now.
void GossipSender::deliver() {
  if (delivering_) return;  // transmit may queue more; this loop picks it up
  delivering_ = true;
  while (!empty() && !(busy_ && busy_())) {
    GossipMessage::Kind kind;
    PeerName source;
    GossipDataPtr data;
    if (gossip_) {  // usually more important than broadcasts
      kind = GossipMessage::Kind::gossip;
      source = ourself_;
      data = std::move(gossip_);
      gossip_.reset();
    } else {
      auto it = broadcasts_.begin();
      kind = GossipMessage::Kind::broadcast;
      source = it->first;
      data = std::move(it->second);
      broadcasts_.erase(it);
    }
    for (Bytes& msg : data->encode()) {
      transmit_(GossipMessage{kind, channel_, source, PeerName{}, std::move(msg)});
    }
    ++items_sent_;
  }
  delivering_ = false;
}

GossipSenders::GossipSenders(PeerName ourself, GossipSender::Transmit transmit,
                             GossipSender::Busy busy)
    : ourself_(ourself), transmit_(std::move(transmit)), busy_(std::move(busy)) {}

GossipSender& GossipSenders::sender(std::string_view channel) {
  auto it = senders_.find(channel);
  if (it == senders_.end()) {
    it = senders_
             .emplace(std::string(channel), std::make_unique<GossipSender>(
                                                std::string(channel), ourself_, transmit_, busy_))
             .first;
  }
  return *it->second;
}

void GossipSenders::ready() {
  for (auto& [name, sender] : senders_) sender->ready();
}

}  // namespace loom::mesh
