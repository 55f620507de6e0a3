// GossipSender: what one channel still has to send down one connection
// (mesh:gossip.go, gossipSender).
//
// It holds at most one pending gossip item and one pending broadcast item
// per source. New data merges into them while the connection is busy, so a
// slow link gets fewer, bigger messages instead of a growing queue. Gossip
// items go before broadcasts. GossipSenders holds a connection's senders,
// one per channel.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "model/mesh/gossip.h"

namespace loom::mesh {

class GossipSender {
 public:
  // transmit writes one message to the connection. busy says the
  // connection's backlog is not drained (Stream::pending() > 0): nothing more
  // is written until ready() is called and busy() is false.
  using Transmit = std::function<void(GossipMessage)>;
  using Busy = std::function<bool()>;

  GossipSender(std::string channel, PeerName ourself, Transmit transmit, Busy busy);

  // Queues gossip (sent as from us); merges with what is pending.
  void send(GossipDataPtr data);
  // Queues a broadcast of source's tree; merges with what is pending for source.
  void broadcast(PeerName source, GossipDataPtr data);
  // The connection drained: send what is pending, while it stays not busy.
  void ready();

  bool empty() const { return !gossip_ && broadcasts_.empty(); }
  // Items (not messages) handed to transmit so far.
  uint64_t items_sent() const { return items_sent_; }

 private:
  void deliver();

  std::string channel_;
  PeerName ourself_;
  Transmit transmit_;
  Busy busy_;
  GossipDataPtr gossip_;
  std::map<PeerName, GossipDataPtr> broadcasts_;  // ordered: deterministic pick
  bool delivering_ = false;
  uint64_t items_sent_ = 0;
};

// One connection's senders, one per channel, made on first use.
class GossipSenders {
 public:
  GossipSenders(PeerName ourself, GossipSender::Transmit transmit, GossipSender::Busy busy);

  GossipSender& sender(std::string_view channel);
  // Calls ready() on every sender, in channel order.
  void ready();

 private:
  PeerName ourself_;
  GossipSender::Transmit transmit_;
  GossipSender::Busy busy_;
  std::map<std::string, std::unique_ptr<GossipSender>, std::less<>> senders_;
};

}  // namespace loom::mesh
