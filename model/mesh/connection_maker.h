// ConnectionMaker: which addresses to dial, and when (mesh:connection_maker.go).
//
// Targets are ip:port addresses. They come from direct peers (the command
// line, `weave connect`, `weave forget`) and, with discovery on, from the
// connections other known peers report. Each target waits, is attempted, is
// connected, or (a direct one no longer wanted) is suspended; discovered ones
// no longer wanted are deleted. Failed attempts back off as Weave's do:
// interval/2 + uniform[0, interval), the interval growing ×1.5 from 2 s to
// 6 min.
//
// Sans-IO: the maker dials through a callback and keeps time with Host
// timers; the connection layer tells it what happened. docs/mesh-connections.md
// has the whole story.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/flat_map.hpp>

#include "model/host.h"
#include "model/mesh/mesh_config.h"
#include "model/mesh/peer_name.h"

namespace loom::mesh {

// Why a connection (or an attempt) ended. Kind decides the retry; message is
// what status shows.
struct ConnectionError {
  enum class Kind {
    other,
    connect_to_self,  // the handshake found our own name: never retry
    name_collision,   // another peer with our name (different UID): never retry
  };
  Kind kind = Kind::other;
  std::string message;

  static ConnectionError other(std::string message) { return {Kind::other, std::move(message)}; }
};

// One of our connections, as the connection layer reports it. For an
// outbound connection, remote is the target address that was dialled.
struct LocalConnection {
  Endpoint remote;
  PeerName peer;
  bool outbound = false;
};

// What discovery reads from the topology: one known peer's connections.
struct KnownConnection {
  PeerName remote;
  Endpoint address;  // the address that peer recorded for the connection
  bool outbound = false;
};
struct KnownPeer {
  PeerName name;
  std::vector<KnownConnection> connections;
};

// A row of `weave status connections` for a target not (yet) connected.
struct TargetStatus {
  std::string address;  // "10.0.0.1:6783"
  bool outbound = true;
  std::string state;  // connecting, retrying, failed, waiting
  std::string info;   // last error, "retry: <time>"
};

class ConnectionMaker {
 public:
  enum class TargetState { waiting, attempting, connected, suspended };

  struct Callbacks {
    // Starts a connection to address. accept_new_peer is true for direct
    // targets: a discovered target may only lead to a peer already known.
    // Must report back (connection_created / connect_failed) later, never
    // from inside this call.
    std::function<void(const Endpoint& address, bool accept_new_peer)> dial;
    // The known peers with their connections, for discovery. May be empty.
    std::function<std::vector<KnownPeer>()> known_peers;
    // Optional: a number that changes whenever known_peers() would return
    // something different. Given, the maker re-reads known_peers() only
    // then (its targets derived from them are the same otherwise).
    std::function<uint64_t()> known_peers_version;
    // Optional, in place of known_peers: calls back once per (remote peer,
    // address to dial) that discovery offers, without building the list.
    using TargetVisitor = std::function<void(PeerName remote, const Endpoint& address)>;
    std::function<void(const TargetVisitor&)> visit_known_targets;
  };

  ConnectionMaker(Host& host, PeerName ourself, const MeshConfig& config, Callbacks callbacks);
  ~ConnectionMaker();
  ConnectionMaker(const ConnectionMaker&) = delete;
  ConnectionMaker& operator=(const ConnectionMaker&) = delete;

  // `weave connect [--replace] PEER...`: each "ip" or "ip:port" becomes a
  // direct peer (an existing target for it is retried at once). replace
  // forgets the previous list first. Returns one error per malformed peer;
  // the others are taken.
  std::vector<Error> initiate_connections(const std::vector<std::string>& peers, bool replace);
  // `weave forget PEER...`: stops wanting these direct peers, spelt as given.
  // Takes effect at the next check, as in mesh.
  void forget_connections(const std::vector<std::string>& peers);

  // Outcomes, from the connection layer.
  void connection_created(const LocalConnection& conn);
  void connection_terminated(const LocalConnection& conn, const ConnectionError& reason);
  // A dial (or its handshake) failed before a connection was created.
  void connect_failed(const Endpoint& address, const ConnectionError& reason);
  // The topology changed: re-evaluate targets (mesh's Refresh).
  void refresh();

  // Direct peers as given, sorted (`weave status targets`).
  std::vector<std::string> direct_peers() const;
  // Rows for targets not connected, sorted by address.
  std::vector<TargetStatus> target_status() const;
  // How many of those rows are in each state (weave_connections), cheaply.
  struct TargetCounts {
    size_t connecting = 0;
    size_t retrying = 0;
    size_t failed = 0;
    size_t waiting = 0;
  };
  TargetCounts target_state_counts() const;
  std::optional<TargetState> target_state(const Endpoint& address) const;
  size_t connection_count() const { return connections_.size(); }

 private:
  struct Target {
    TargetState state = TargetState::waiting;
    std::optional<ConnectionError> last_error;
    std::optional<Time> try_after;  // nullopt: never
    Time try_interval{};
  };
  struct DirectPeer {
    Ipv4 addr;
    uint16_t port = 0;  // 0: not given
  };

  // The state a target's status row shows; empty when it has no row.
  static std::string_view row_state(const Target& t);
  void try_now(Target& t);
  void try_later(Target& t);
  static void try_never(Target& t, const MeshConfig& config);
  void after_end(Target& t, const ConnectionError& reason, bool connection_lived);
  Endpoint complete(const DirectPeer& p) const;
  // mesh's checkStateAndAttemptConnections: re-derive the valid targets, dial
  // those due, arm the timer for the next one.
  void check();
  // Its first half: valid_ and direct_targets_ from direct_, connections_
  // and the known peers; a new target for each valid address not known.
  void derive_targets();

  Host& host_;
  PeerName ourself_;
  MeshConfig config_;
  Callbacks callbacks_;
  std::map<std::string, DirectPeer> direct_;
  // direct_ with each peer's address completed, sorted by it: derived again
  // only when direct_ changes (direct_version_).
  std::vector<std::pair<Endpoint, DirectPeer>> direct_endpoints_;
  uint64_t direct_endpoints_version_ = 0;
  // Sorted by address in one array: check() walks every target (as mesh's
  // does) each time anything changed, and a tree made that walk a tenth of
  // a 1,000-peer simulation.
  boost::container::flat_map<Endpoint, Target> targets_;
  std::vector<LocalConnection> connections_;
  TimerId timer_ = 0;
  // What check() derived from direct_, connections_ and the known peers,
  // sorted, kept while none of them changes (each change bumps a version).
  std::vector<Endpoint> valid_;
  std::vector<Endpoint> direct_targets_;
  bool derived_ = false;
  uint64_t direct_version_ = 0;
  uint64_t connections_version_ = 0;
  uint64_t derived_from_[3] = {0, 0, 0};  // known peers, direct, connections
  // Whether a target, a connection or the derived targets changed since the
  // last check, and the earliest future try_after it found.
  bool dirty_ = true;
  std::optional<Time> next_;
};

std::string_view to_string(ConnectionMaker::TargetState state);

}  // namespace loom::mesh
