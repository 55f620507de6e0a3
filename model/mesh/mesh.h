// Mesh: one Weave peer's mesh on a Host (mesh:router.go, local_peer.go,
// connection.go; weave-protocol.md section 1). docs/mesh.md is the overview.
//
// Listens on TCP config.port (accepts throttled by a token bucket), dials
// the ConnectionMaker's targets, runs a Connection per stream, and adds
// each handshaken connection to the topology as Weave's doAddConnection
// does: self and name collisions refused for good, discovered targets only
// to known peers, duplicates resolved by the lower connection UID, the
// connection limit. Topology changes are gossiped on the "topology" channel
// (local ones coalesced for 1 s, sent to a neighbour subset), routes are
// recalculated (coalesced 100 ms), unreachable peers garbage-collected, and
// every channel's full state is gossiped every 30 s. Other engines register
// gossip channels; channels nobody registered are carried by surrogates.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/host.h"
#include "model/mesh/connection.h"
#include "model/mesh/connection_maker.h"
#include "model/mesh/discovery_index.h"
#include "model/mesh/gossip_channel.h"
#include "model/mesh/mesh_config.h"
#include "model/mesh/overlay.h"
#include "model/mesh/peers.h"
#include "model/mesh/routes.h"
#include "model/mesh/status.h"
#include "model/mesh/token_bucket.h"
#include "model/mesh/topology_gossip.h"

namespace loom::mesh {

struct MeshIdentity {
  PeerName name;
  std::string nickname;
  // Our initial short ID; none: drawn at random, as Weave does. A forced one
  // lets a test or scenario stage a collision.
  std::optional<ShortID> short_id = std::nullopt;
};

class Mesh final : public GossipRouter, private ConnectionOwner {
 public:
  // Draws our UID from host.random() (non-zero). password: encryption on
  // when set and non-empty. overlay outlives the mesh. Call start() next.
  Mesh(Host& host, MeshConfig config, MeshIdentity identity, std::optional<std::string> password,
       Overlay& overlay);
  ~Mesh() override;
  Mesh(const Mesh&) = delete;
  Mesh& operator=(const Mesh&) = delete;

  // Listens on config.port and starts periodic gossip.
  Result<void> start();

  // `weave connect` / `weave forget`: "ip" or "ip:port".
  std::vector<Error> connect(const std::vector<std::string>& peers, bool replace = false);
  void forget(const std::vector<std::string>& peers);

  // A gossip channel for an engine (IPAM, DNS). gossiper outlives the mesh.
  // A channel of that name carried by a surrogate so far is taken over.
  Gossip& register_channel(const std::string& name, Gossiper& gossiper);

  MeshStatus status() const;

  PeerName name() const { return identity_.name; }
  PeerUID uid() const { return uid_; }
  const Peers& peers() const { return peers_; }
  Routes& routes() { return routes_; }
  const MeshConfig& config() const { return config_; }
  // Peers we hold a connection to (pending or established), sorted.
  // Inbound streams waiting for an accept token (weave's listener takes 20
  // a second), and how many of them still hold a stream: one whose dialer
  // gave up keeps its place but not its memory.
  size_t accept_queue_length() const { return accept_queue_.size(); }
  size_t accept_queue_held() const;
  std::vector<PeerName> connected_peers() const;
  const Connection* connection_to(PeerName peer) const;
  const ConnectionMaker& connection_maker() const { return maker_; }
  const TopologyGossiper& topology_gossiper() const { return topology_; }

  // GossipRouter.
  PeerName ourself() const override { return identity_.name; }
  std::optional<PeerName> unicast_next_hop(PeerName dst) override;
  std::vector<PeerName> broadcast_next_hops(PeerName source) override;
  std::vector<PeerName> random_neighbours(PeerName except) override;
  GossipSender* sender_for(PeerName neighbour, std::string_view channel) override;
  Result<void> send_unicast(PeerName neighbour, const GossipMessage& msg) override;
  void when_routes_current(std::function<void()> fn) override;

 private:
  struct Channel {
    std::unique_ptr<Gossiper> surrogate;  // set when nobody registered it
    std::unique_ptr<GossipChannel> channel;
  };
  struct Entry {
    std::unique_ptr<Connection> conn;
    bool accept_new_peer = true;
  };

  // Per-channel gossip counters (weave_gossip_*_total{channel}).
  struct GossipMeter {
    Counter* messages_sent;
    Counter* bytes_sent;
    Counter* messages_received;
    Counter* bytes_received;
  };

  // ConnectionOwner.
  Result<void> add_connection(Connection& conn) override;
  void connection_established(Connection& conn) override;
  Result<void> gossip_received(Connection& conn, const GossipMessage& msg,
                               size_t wire_bytes) override;
  void gossip_sent(Connection& conn, const GossipMessage& msg, size_t wire_bytes) override;
  void connection_closed(Connection& conn, const ConnectionError& reason) override;

  void dial(const Endpoint& address, bool accept_new_peer);
  void accept(StreamPtr stream);
  void pump_accepts();
  void forget_dead_accepts();
  void start_connection(StreamPtr stream, bool outbound, std::optional<Endpoint> target,
                        bool accept_new_peer);
  Entry* entry_of(const Connection& conn);
  // Removes an added connection from the topology (handleDeleteConnection).
  void delete_connection(Connection& conn, const ConnectionError& reason);
  GossipChannel& channel(const std::string& name);
  void topology_changed(const MergeResult& result);
  // Queues peers for the next coalesced topology update.
  void broadcast_peer_update(PeerNameSet names);
  void send_topology_update();
  void request_routes();
  void recalculate_routes();
  void request_gc();
  void collect_garbage();
  void periodic_gossip();
  // Weave's reassignLocalShortID: a lower-named peer holds our short ID.
  void reassign_short_id_if_lost();
  // The rows of `weave status connections`: ours, then the maker's targets.
  std::vector<ConnectionStatus> connection_rows() const;
  // weave_connections{state}, counted from the connections and the maker's
  // targets (the gauges read it).
  struct ConnectionCounts {
    size_t established = 0;
    size_t pending = 0;
    size_t retrying = 0;
    size_t failed = 0;
    size_t connecting = 0;
  };
  ConnectionCounts connection_counts() const;
  GossipMeter& gossip_meter(std::string_view channel);

  Host& host_;
  MeshConfig config_;
  MeshIdentity identity_;
  std::optional<std::string> password_;
  Overlay& overlay_;
  PeerUID uid_;
  std::shared_ptr<bool> alive_;  // for Host callbacks that cannot be cancelled
  Peers peers_;
  Routes routes_;
  TopologyGossiper topology_;
  DiscoveryIndex discovery_;  // what the maker discovers from
  std::map<std::string, Channel, std::less<>> channels_;
  TokenBucket accept_bucket_;
  ConnectionMaker maker_;
  PeerNameSet pending_update_;
  TimerId update_timer_ = 0;
  TimerId routes_timer_ = 0;
  // Relays waiting for the pending route recalculation, in order.
  std::vector<std::function<void()>> after_routes_;
  TimerId gc_timer_ = 0;
  TimerId gossip_timer_ = 0;
  TimerId reap_timer_ = 0;
  std::deque<StreamPtr> accept_queue_;  // waiting for an accept token (null: forgotten)
  size_t accept_queue_live_ = 0;        // not forgotten at the last sweep
  TimerId accept_timer_ = 0;
  uint64_t next_entry_ = 1;
  std::map<uint64_t, Entry> connections_;               // every live connection, by start order
  std::map<PeerName, Connection*> by_peer_;             // the added ones
  std::vector<std::unique_ptr<Connection>> graveyard_;  // closed, freed from a timer
  // Metrics (docs/mesh.md, "Metrics"); references into host_.metrics().
  // weave_connections{state}: Weave's five states (weave:prog/weaver/metrics.go).
  struct ConnectionGauges {
    Gauge* established;
    Gauge* pending;
    Gauge* retrying;
    Gauge* failed;
    Gauge* connecting;
  };
  ConnectionGauges gauges_{};
  Counter& terminations_;
  std::map<std::string, GossipMeter, std::less<>> gossip_meters_;
};

}  // namespace loom::mesh
