// GossipChannel: one named channel over the mesh (mesh:gossip_channel.go).
//
// Receives the channel's three messages and hands them to its Gossiper,
// relaying what comes back: unicasts not for us go on unchanged along the
// unicast route, broadcasts along the source's broadcast tree, gossip
// deltas to random neighbours other than the one they came from. It is also
// the channel's Gossip (send side). What it needs of the mesh (routes and
// connections) is the small GossipRouter interface, so it can be tested
// with a fake.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/mesh/gossip.h"
#include "model/mesh/gossip_sender.h"

namespace loom::mesh {

// What a channel needs of the mesh: routes, and the connections to neighbours.
class GossipRouter {
 public:
  virtual ~GossipRouter() = default;
  virtual PeerName ourself() const = 0;
  // The neighbour to send to for dst (mesh's UnicastAll), if any route.
  virtual std::optional<PeerName> unicast_next_hop(PeerName dst) = 0;
  // The neighbours on source's broadcast tree below us (BroadcastAll).
  virtual std::vector<PeerName> broadcast_next_hops(PeerName source) = 0;
  // A random subset of neighbours, never except (weave-protocol.md 1.7).
  virtual std::vector<PeerName> random_neighbours(PeerName except) = 0;
  // This channel's sender on the connection to neighbour; null when there is
  // no such connection.
  virtual GossipSender* sender_for(PeerName neighbour, std::string_view channel) = 0;
  // Writes a unicast message on the connection to neighbour, unqueued.
  virtual Result<void> send_unicast(PeerName neighbour, const GossipMessage& msg) = 0;
  // Runs fn once the routes reflect every topology change made so far:
  // mesh's relays call ensureRecalculated first, which waits for a pending
  // recalculation. At once when none is pending (the default).
  virtual void when_routes_current(std::function<void()> fn) { fn(); }
};

class GossipChannel final : public Gossip {
 public:
  // gossiper and router outlive the channel.
  GossipChannel(std::string name, Gossiper& gossiper, GossipRouter& router);

  const std::string& name() const { return name_; }

  // A message of this channel arrived. Errors are the gossiper's (a peer
  // sent something it could not merge); relaying failures are not errors.
  Result<void> deliver(const GossipMessage& msg);

  // Gossip.
  Result<void> gossip_unicast(PeerName dst, ByteView msg) override;
  void gossip_broadcast(GossipDataPtr update) override;
  void gossip_neighbour_subset(GossipDataPtr data) override;

  // The periodic gossip: the gossiper's full state to random neighbours.
  void send_all_gossip();
  // The full state down one connection, for a new or restarted neighbour.
  void send_all_gossip_down(PeerName neighbour);

 private:
  Result<void> relay_unicast(const GossipMessage& msg);
  void relay_broadcast(PeerName source, const GossipDataPtr& data);
  void relay(PeerName source, const GossipDataPtr& data);

  std::string name_;
  Gossiper& gossiper_;
  GossipRouter& router_;
  // Relays waiting for current routes check it: the channel may be gone
  // (replaced by register_channel) by then.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace loom::mesh
