#include "model/mesh/mesh.h"

#include <algorithm>
#include <utility>

#include "model/crypto/key_pair.h"
#include "model/mesh/fanout.h"
#include "model/mesh/gossip_surrogate.h"
#include "model/mesh/short_id.h"

namespace loom::mesh {

namespace {

PeerUID draw_uid(Random& random) {
  PeerUID uid = 0;
  while (uid == 0) uid = random.next();
  return uid;
}

// mesh's randomPeerShortID: uniform over the 12 bits.
ShortID draw_short_id(const MeshIdentity& identity, Random& random) {
  if (identity.short_id) return static_cast<ShortID>(*identity.short_id & (kShortIdCount - 1));
  return static_cast<ShortID>(random.below(kShortIdCount));
}

std::string peer_label(PeerName name, std::string_view nickname) {
  return name.to_string() + "(" + std::string(nickname) + ")";
}

}  // namespace

Mesh::Mesh(Host& host, MeshConfig config, MeshIdentity identity,
           std::optional<std::string> password, Overlay& overlay)
    : host_(host),
      config_(config),
      identity_(std::move(identity)),
      password_(std::move(password)),
      overlay_(overlay),
      uid_(draw_uid(host.random())),
      alive_(std::make_shared<bool>(true)),
      peers_(identity_.name, identity_.nickname, uid_, draw_short_id(identity_, host.random()),
             true),
      routes_(peers_),
      topology_(peers_, [this](const MergeResult& r) { topology_changed(r); }),
      discovery_(identity_.name, config_.port),
      accept_bucket_(config.accept_bucket_capacity, config.accept_token_interval, host.now()),
      maker_(host, identity_.name, config,
             ConnectionMaker::Callbacks{[this](const Endpoint& address, bool accept_new_peer) {
                                          dial(address, accept_new_peer);
                                        },
                                        {},  // discovery is visited in place, below
                                        [this] { return discovery_.version(); },
                                        [this](const ConnectionMaker::Callbacks::TargetVisitor& v) {
                                          discovery_.for_each_target(v);
                                        }}),
      terminations_(host.metrics().counter("weave_connection_terminations_total")) {
  if (password_ && password_->empty()) password_.reset();
  Channel topology;
  topology.channel = std::make_unique<GossipChannel>(kTopologyChannel, topology_, *this);
  channels_.emplace(kTopologyChannel, std::move(topology));
  auto gauge = [&](const char* state) {
    return &host.metrics().gauge("weave_connections", {{"state", state}});
  };
  gauges_ = ConnectionGauges{gauge("established"), gauge("pending"), gauge("retrying"),
                             gauge("failed"), gauge("connecting")};
  // Counted when read: every connection and target would be walked after
  // each change otherwise (a tenth of a 1,000-peer simulation's time).
  gauges_.established->set_source(this, [this] { return double(connection_counts().established); });
  gauges_.pending->set_source(this, [this] { return double(connection_counts().pending); });
  gauges_.retrying->set_source(this, [this] { return double(connection_counts().retrying); });
  gauges_.failed->set_source(this, [this] { return double(connection_counts().failed); });
  gauges_.connecting->set_source(this, [this] { return double(connection_counts().connecting); });
}

Mesh::~Mesh() {
  *alive_ = false;
  for (Gauge* g : {gauges_.established, gauges_.pending, gauges_.retrying, gauges_.failed,
                   gauges_.connecting}) {
    g->release_source(this);  // the last counts stay
  }
  for (TimerId t :
       {update_timer_, routes_timer_, gc_timer_, gossip_timer_, reap_timer_, accept_timer_}) {
    host_.cancel(t);
  }
  for (StreamPtr& s : accept_queue_) {
    if (s) s->close();
  }
  // Connections first: their senders hold topology data over peers_.
  by_peer_.clear();
  connections_.clear();
  graveyard_.clear();
}

Result<void> Mesh::start() {
  std::weak_ptr<bool> alive = alive_;
  auto listening = host_.listen(config_.port, [this, alive](StreamPtr stream) {
    if (alive.expired() || !*alive.lock()) {
      stream->close();
      return;
    }
    accept(std::move(stream));
  });
  if (!listening) return listening.error();
  LOOM_LOG(host_.log(), "mesh", info,
           "Our name is " << peer_label(identity_.name, identity_.nickname) << ", UID " << uid_
                          << ", short ID " << peers_.local().short_id);
  gossip_timer_ = host_.after(config_.gossip_interval, [this] { periodic_gossip(); });
  return {};
}

std::vector<Error> Mesh::connect(const std::vector<std::string>& peers, bool replace) {
  auto errors = maker_.initiate_connections(peers, replace);
  return errors;
}

void Mesh::forget(const std::vector<std::string>& peers) { maker_.forget_connections(peers); }

Gossip& Mesh::register_channel(const std::string& name, Gossiper& gossiper) {
  Channel& c = channels_[name];
  c.channel = std::make_unique<GossipChannel>(name, gossiper, *this);
  c.surrogate.reset();
  return *c.channel;
}

GossipChannel& Mesh::channel(const std::string& name) {
  auto it = channels_.find(name);
  if (it != channels_.end()) return *it->second.channel;
  Channel c;
  c.surrogate = std::make_unique<SurrogateGossiper>(host_, config_.gossip_interval);
  c.channel = std::make_unique<GossipChannel>(name, *c.surrogate, *this);
  return *channels_.emplace(name, std::move(c)).first->second.channel;
}

// ---- Connections ----------------------------------------------------------

void Mesh::dial(const Endpoint& address, bool accept_new_peer) {
  std::weak_ptr<bool> alive = alive_;
  host_.connect(address, [this, alive, address, accept_new_peer](Result<StreamPtr> stream) {
    if (alive.expired() || !*alive.lock()) {
      if (stream) (*stream)->close();
      return;
    }
    if (!stream) {
      LOOM_LOG(host_.log(), "mesh", info,
               "->[" << address.to_string()
                     << "] error during connection attempt: " << stream.error().message);
      maker_.connect_failed(address, ConnectionError::other(stream.error().message));
      return;
    }
    start_connection(std::move(*stream), true, address, accept_new_peer);
  });
}

void Mesh::accept(StreamPtr stream) {
  accept_queue_.push_back(std::move(stream));
  if (accept_queue_.size() >= 2 * accept_queue_live_ + 64) forget_dead_accepts();
  pump_accepts();
}

size_t Mesh::accept_queue_held() const {
  return static_cast<size_t>(std::count_if(accept_queue_.begin(), accept_queue_.end(),
                                           [](const StreamPtr& s) { return s != nullptr; }));
}

// A stream whose dialer gave up while it waited (its handshake timed out)
// keeps its place in the queue and will take a token, as a connection in
// the kernel's backlog does; it need not keep its memory. At a thousand
// hosts dialling each other at once the queues held 145,000 streams after
// 3 s and grew by 90,000 a second. Swept when the queue has doubled since
// the last sweep, so each entry is looked at a bounded number of times.
void Mesh::forget_dead_accepts() {
  size_t live = 0;
  for (StreamPtr& s : accept_queue_) {
    if (s && !s->is_open()) s.reset();
    if (s) ++live;
  }
  accept_queue_live_ = live;
}

// mesh's listener takes a token after each accept; here a stream waits in
// the queue until a token is due.
void Mesh::pump_accepts() {
  while (!accept_queue_.empty()) {
    if (!accept_bucket_.try_take(host_.now())) {
      if (accept_timer_ == 0) {
        accept_timer_ = host_.after(accept_bucket_.next_available() - host_.now(), [this] {
          accept_timer_ = 0;
          pump_accepts();
        });
      }
      return;
    }
    StreamPtr stream = std::move(accept_queue_.front());
    accept_queue_.pop_front();
    if (!stream) {
      // Forgotten above: its handshake would fail at once on the closed
      // stream. Draw what starting it would have (its connection id and,
      // with a password, a key pair), so later draws stay where they were.
      (void)host_.random().next();
      if (password_) (void)crypto::KeyPair::generate(host_.random());
      continue;
    }
    start_connection(std::move(stream), false, std::nullopt, true);
  }
}

void Mesh::start_connection(StreamPtr stream, bool outbound, std::optional<Endpoint> target,
                            bool accept_new_peer) {
  HandshakeConfig hs;
  hs.name = identity_.name;
  hs.nickname = identity_.nickname;
  hs.uid = uid_;
  hs.short_id =
      peers_.local().has_short_id ? std::optional<ShortID>(peers_.local().short_id) : std::nullopt;
  hs.password = password_;
  hs.outbound = outbound;
  hs.overlays = overlay_.advertised_overlays();
  auto conn = std::make_unique<Connection>(host_, config_, static_cast<ConnectionOwner&>(*this),
                                           overlay_, std::move(stream), std::move(hs), target);
  Connection& c = *conn;
  connections_.emplace(next_entry_++, Entry{std::move(conn), accept_new_peer});
  c.start();
}

Mesh::Entry* Mesh::entry_of(const Connection& conn) {
  for (auto& [id, e] : connections_) {
    if (e.conn.get() == &conn) return &e;
  }
  return nullptr;
}

// Weave's registerRemote + doAddConnection.
Result<void> Mesh::add_connection(Connection& conn) {
  const PeerFeatures& remote = conn.handshake().remote;
  const Entry* entry = entry_of(conn);
  if (entry && !entry->accept_new_peer && peers_.find(remote.name) == nullptr) {
    return make_error("Found unknown remote name: " + remote.name.to_string() + " at " +
                      conn.remote_address().to_string());
  }
  const Peer* known = peers_.find(remote.name);
  const bool restarted = known && known->uid != 0 && known->uid != remote.uid;
  // Weave's registerRemote: the connection references its peer from here
  // on, so deleting a duplicate below cannot garbage-collect the peer (and
  // everything reached through it) that this connection is about to join.
  peers_.add_reference(remote.name, remote.nickname, remote.uid);
  auto refuse = [&](Error error) -> Result<void> {
    peers_.drop_reference(remote.name);
    request_gc();
    return error;
  };

  const std::string dup_error = "Multiple connections to " +
                                peer_label(remote.name, remote.nickname) + " added to " +
                                peer_label(identity_.name, identity_.nickname);
  if (auto it = by_peer_.find(remote.name); it != by_peer_.end()) {
    Connection& dup = *it->second;
    // The connection UID is the same at both ends, so both make the same choice.
    if (conn.uid() < dup.uid()) {
      delete_connection(dup, ConnectionError::other(dup_error));
      dup.shutdown(ConnectionError::other(dup_error));
    } else if (dup.uid() < conn.uid()) {
      return refuse(make_error(dup_error));
    } else {  // "oh good grief. Sod it, just kill both of them."
      delete_connection(dup, ConnectionError::other(dup_error));
      dup.shutdown(ConnectionError::other(dup_error));
      return refuse(make_error(dup_error));
    }
  }
  if (config_.conn_limit != 0 && by_peer_.size() >= config_.conn_limit) {
    return refuse(
        make_error("Connection limit reached (" + std::to_string(config_.conn_limit) + ")"));
  }

  // Weave sends every channel's full state only to a restarted peer or to
  // one we had no (established, symmetric) route to: a peer we already
  // reach has the state, or gets it by gossip.
  const bool connected_peer = routes_.unicast(remote.name).has_value();
  peers_.add_connection(remote.name, conn.remote_address(), conn.outbound(), false);
  by_peer_[remote.name] = &conn;
  conn.set_added(true);
  maker_.connection_created(LocalConnection{conn.remote_address(), remote.name, conn.outbound()});
  LOOM_LOG(host_.log(), "mesh", info,
           conn.describe() << ": connection added"
                           << (restarted        ? " (restarted peer)"
                               : connected_peer ? ""
                                                : " (new peer)"));
  request_routes();
  if (restarted || !connected_peer) {
    for (auto& [name, c] : channels_) c.channel->send_all_gossip_down(remote.name);
  }
  broadcast_peer_update({remote.name});
  maker_.refresh();
  return {};
}

void Mesh::connection_established(Connection& conn) {
  if (peers_.establish_connection(conn.remote_name())) {
    request_routes();
    broadcast_peer_update({conn.remote_name()});
  }
}

Result<void> Mesh::gossip_received(Connection&, const GossipMessage& msg, size_t wire_bytes) {
  GossipMeter& meter = gossip_meter(msg.channel);
  meter.messages_received->add();
  meter.bytes_received->add(wire_bytes);
  return channel(msg.channel).deliver(msg);
}

void Mesh::gossip_sent(Connection&, const GossipMessage& msg, size_t wire_bytes) {
  GossipMeter& meter = gossip_meter(msg.channel);
  meter.messages_sent->add();
  meter.bytes_sent->add(wire_bytes);
}

Mesh::GossipMeter& Mesh::gossip_meter(std::string_view channel) {
  auto it = gossip_meters_.find(channel);
  if (it != gossip_meters_.end()) return it->second;
  Metrics& m = host_.metrics();
  const Labels labels{{"channel", std::string(channel)}};
  GossipMeter meter{&m.counter("weave_gossip_messages_sent_total", labels),
                    &m.counter("weave_gossip_bytes_sent_total", labels),
                    &m.counter("weave_gossip_messages_received_total", labels),
                    &m.counter("weave_gossip_bytes_received_total", labels)};
  return gossip_meters_.emplace(std::string(channel), meter).first->second;
}

void Mesh::delete_connection(Connection& conn, const ConnectionError& reason) {
  const PeerName remote = conn.remote_name();
  auto it = by_peer_.find(remote);
  if (it == by_peer_.end() || it->second != &conn) return;
  by_peer_.erase(it);
  terminations_.add();
  peers_.delete_connection(remote);
  peers_.drop_reference(remote);
  maker_.connection_terminated(LocalConnection{conn.remote_address(), remote, conn.outbound()},
                               reason);
  collect_garbage();
  request_routes();
  broadcast_peer_update({});
}

void Mesh::connection_closed(Connection& conn, const ConnectionError& reason) {
  auto it = by_peer_.find(conn.remote_name());
  if (conn.added() && it != by_peer_.end() && it->second == &conn) {
    delete_connection(conn, reason);
  } else if (!conn.added() && conn.outbound()) {
    maker_.connect_failed(conn.remote_address(), reason);
  }
  for (auto e = connections_.begin(); e != connections_.end(); ++e) {
    if (e->second.conn.get() == &conn) {
      graveyard_.push_back(std::move(e->second.conn));
      connections_.erase(e);
      break;
    }
  }
  if (reap_timer_ == 0) {
    reap_timer_ = host_.after(Time(0), [this] {
      reap_timer_ = 0;
      graveyard_.clear();
    });
  }
}

// ---- Topology -------------------------------------------------------------

void Mesh::topology_changed(const MergeResult& result) {
  discovery_.update(peers_, result.changed);
  discovery_.update(peers_, result.removed);
  // The merge garbage-collected these (as Weave's applyUpdate does).
  for (PeerName p : result.removed) {
    LOOM_LOG(host_.log(), "mesh", info, "Removed unreachable peer " << p.to_string());
  }
  if (result.ourselves_bumped) broadcast_peer_update({});
  if (!result.removed.empty()) overlay_.peers_removed(result.removed);
  if (result.short_ids_changed || !result.removed.empty()) {
    overlay_.short_ids_changed();
    reassign_short_id_if_lost();
  }
  request_routes();
  request_gc();
  maker_.refresh();
}

// Weave (mesh:peers.go) reassigns when a lower-named peer takes our ID, and
// retries after GC while we do not own it (all 4096 taken before).
void Mesh::reassign_short_id_if_lost() {
  if (!lost_short_id(peers_)) return;
  const ShortID lost = peers_.local().short_id;
  auto id = choose_short_id(peers_, host_.random());
  if (!id) return;
  peers_.set_short_id(*id);
  overlay_.short_ids_changed();
  LOOM_LOG(host_.log(), "mesh", info,
           "Short ID " << lost << " taken by "
                       << short_id_owner(peers_, lost).value_or(PeerName{}).to_string()
                       << "; using " << *id);
  broadcast_peer_update({});
}

void Mesh::broadcast_peer_update(PeerNameSet names) {
  names.push_back(identity_.name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  pending_update_ = merge_names(pending_update_, names);
  request_gc();
  if (update_timer_ != 0) return;
  update_timer_ = host_.after(config_.topology_update_delay, [this] {
    update_timer_ = 0;
    send_topology_update();
  });
}

void Mesh::send_topology_update() {
  PeerNameSet names = std::move(pending_update_);
  pending_update_.clear();
  if (names.empty()) return;
  if (routes_timer_ != 0) recalculate_routes();  // fan out over the current topology
  channel(kTopologyChannel)
      .gossip_neighbour_subset(std::make_shared<TopologyGossipData>(peers_, std::move(names)));
}

void Mesh::request_routes() {
  if (routes_timer_ != 0) return;
  routes_timer_ = host_.after(config_.route_recalculation_delay, [this] {
    routes_timer_ = 0;
    recalculate_routes();
  });
}

void Mesh::recalculate_routes() {
  host_.cancel(routes_timer_);
  routes_timer_ = 0;
  Routes next(peers_);
  // Weave's Routes.Recalculate calls OnChange only when the routes differ;
  // the unicast tables stand for them (broadcast trees are derived from
  // the same connections and read by the overlay on every use).
  const bool changed = !next.same_unicast(routes_);
  routes_ = std::move(next);
  if (changed) overlay_.routes_changed();
  // Relays that waited for these routes.
  auto waiting = std::move(after_routes_);
  after_routes_.clear();
  for (auto& fn : waiting) fn();
}

void Mesh::when_routes_current(std::function<void()> fn) {
  if (routes_timer_ == 0) {
    fn();
  } else {
    after_routes_.push_back(std::move(fn));
  }
}

void Mesh::request_gc() {
  if (gc_timer_ != 0) return;
  gc_timer_ = host_.after(config_.gc_delay, [this] {
    gc_timer_ = 0;
    collect_garbage();
  });
}

void Mesh::collect_garbage() {
  PeerNameSet removed = peers_.garbage_collect();
  if (removed.empty()) return;
  discovery_.update(peers_, removed);
  for (PeerName p : removed) {
    LOOM_LOG(host_.log(), "mesh", info, "Removed unreachable peer " << p.to_string());
  }
  overlay_.peers_removed(removed);
  overlay_.short_ids_changed();
  reassign_short_id_if_lost();
  request_routes();
  maker_.refresh();
}

void Mesh::periodic_gossip() {
  gossip_timer_ = host_.after(config_.gossip_interval, [this] { periodic_gossip(); });
  for (auto& [name, c] : channels_) c.channel->send_all_gossip();
}

// ---- GossipRouter ---------------------------------------------------------

std::optional<PeerName> Mesh::unicast_next_hop(PeerName dst) { return routes_.unicast_all(dst); }

std::vector<PeerName> Mesh::broadcast_next_hops(PeerName source) {
  return routes_.broadcast_all(source);
}

std::vector<PeerName> Mesh::random_neighbours(PeerName except) {
  return mesh::random_neighbours(routes_, except, host_.random());
}

GossipSender* Mesh::sender_for(PeerName neighbour, std::string_view channel) {
  auto it = by_peer_.find(neighbour);
  if (it == by_peer_.end()) return nullptr;
  return &it->second->senders().sender(channel);
}

Result<void> Mesh::send_unicast(PeerName neighbour, const GossipMessage& msg) {
  auto it = by_peer_.find(neighbour);
  if (it == by_peer_.end()) return make_error("no connection to " + neighbour.to_string());
  return it->second->send_gossip(msg);
}

// ---- Status ---------------------------------------------------------------

std::vector<PeerName> Mesh::connected_peers() const {
  std::vector<PeerName> out;
  for (const auto& [name, conn] : by_peer_) out.push_back(name);
  return out;
}

const Connection* Mesh::connection_to(PeerName peer) const {
  auto it = by_peer_.find(peer);
  return it == by_peer_.end() ? nullptr : it->second;
}

std::vector<ConnectionStatus> Mesh::connection_rows() const {
  std::vector<ConnectionStatus> rows;
  for (const auto& [id, e] : connections_) {
    const Connection& c = *e.conn;
    if (c.state() == Connection::State::failed) continue;
    if (c.state() == Connection::State::connecting && c.outbound()) continue;  // a maker row
    ConnectionStatus row;
    row.outbound = c.outbound();
    row.address = c.remote_address().to_string();
    row.state = std::string(to_string(c.state()));
    if (c.handshake_done()) {
      row.peer = peer_label(c.remote_name(), c.handshake().remote.nickname);
      row.info = c.overlay_attrs();
      if (c.encrypted()) row.info += row.info.empty() ? "encrypted" : " encrypted";
    }
    rows.push_back(std::move(row));
  }
  for (const TargetStatus& t : maker_.target_status()) {
    rows.push_back(ConnectionStatus{t.outbound, t.address, t.state, t.info, ""});
  }
  return rows;
}

Mesh::ConnectionCounts Mesh::connection_counts() const {
  const ConnectionMaker::TargetCounts targets = maker_.target_state_counts();
  ConnectionCounts counts;
  counts.connecting = targets.connecting;
  counts.retrying = targets.retrying;
  counts.failed = targets.failed;
  for (const auto& [id, e] : connections_) {
    switch (e.conn->state()) {
      case Connection::State::established:
        ++counts.established;
        break;
      case Connection::State::pending:
        ++counts.pending;
        break;
      case Connection::State::connecting:
        if (!e.conn->outbound()) ++counts.connecting;  // outbound ones are the maker's rows
        break;
      case Connection::State::failed:
        break;
    }
  }
  return counts;
}

MeshStatus Mesh::status() const {
  MeshStatus s;
  s.name = identity_.name.to_string();
  s.nickname = identity_.nickname;
  s.uid = uid_;
  s.version = peers_.local().version;
  s.protocol = "weave " + std::to_string(config_.protocol_min_version) + ".." +
               std::to_string(config_.protocol_max_version);
  s.encryption = password_ ? "enabled" : "disabled";
  s.peer_discovery = config_.discovery;
  s.conn_limit = config_.conn_limit;
  s.direct_peers = maker_.direct_peers();
  s.targets = s.direct_peers.size();
  s.connections = connection_rows();
  for (const ConnectionStatus& row : s.connections) s.connection_counts[row.state]++;
  s.peer_count = peers_.size();
  for (const Peer& p : peers_.all()) {
    PeerStatus ps;
    ps.name = p.name.to_string();
    ps.nickname = p.nickname;
    ps.uid = p.uid;
    ps.version = p.version;
    ps.short_id = p.short_id;
    for (const PeerConnection& c : p.connections) {
      const Peer* remote = peers_.find(c.remote);
      ps.connections.push_back(
          PeerConnectionStatus{c.remote.to_string(), remote ? remote->nickname : std::string(),
                               c.address.to_string(), c.outbound, c.established});
      if (c.established) s.established_connections++;
    }
    s.peers.push_back(std::move(ps));
  }
  s.overlay = overlay_.diagnostics();
  for (const auto& [name, c] : channels_) s.channels.push_back(name);
  return s;
}

}  // namespace loom::mesh
