// Connection: one mesh TCP connection on the Host (mesh:connection.go,
// LocalConnection; weave-protocol.md 1.2-1.3, 1.5).
//
// A Stream from Host::connect or Host::listen goes through the Handshake
// (HeaderTimeout: 10 s for all of it), then carries framed, optionally
// sealed messages on its MessageChannel: a heartbeat every 30 s, a read
// timeout of 60 s reset by every message, gossip (tags 4-6) to the owner,
// overlay control messages (tag 7) to its forwarder; reserved and unknown
// tags are logged and ignored. Any error closes the connection with a
// logged reason, reported to the owner exactly once.
//
// States as Weave has them: connecting (handshake), pending (in the
// topology, the overlay has not yet reported its forwarder established),
// established, failed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "model/host.h"
#include "model/mesh/connection_maker.h"
#include "model/mesh/gossip_sender.h"
#include "model/mesh/handshake.h"
#include "model/mesh/mesh_config.h"
#include "model/mesh/overlay.h"

namespace loom::mesh {

class Connection;

// What a connection asks of the mesh that owns it. Calls come from the
// connection's own Host callbacks; the owner must not destroy the
// connection from inside them (defer it).
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // Handshake done and forwarder prepared: Weave's doAddConnection. An error
  // refuses the connection, which closes with it as the reason.
  virtual Result<void> add_connection(Connection& conn) = 0;
  // The overlay reported the forwarder established.
  virtual void connection_established(Connection& conn) = 0;
  // A gossip message, wire_bytes long on the stream (framed and sealed); an
  // error closes the connection (as in Weave).
  virtual Result<void> gossip_received(Connection& conn, const GossipMessage& msg,
                                       size_t wire_bytes) = 0;
  // A gossip message was written, wire_bytes long (for metrics).
  virtual void gossip_sent(Connection& /*conn*/, const GossipMessage& /*msg*/,
                           size_t /*wire_bytes*/) {}
  // The connection ended (any state), once.
  virtual void connection_closed(Connection& conn, const ConnectionError& reason) = 0;
};

class Connection {
 public:
  enum class State { connecting, pending, established, failed };

  // stream: connected (outbound: dialled to target) or accepted. handshake
  // says who we are; its outbound flag must match. Call start() next.
  Connection(Host& host, const MeshConfig& config, ConnectionOwner& owner, Overlay& overlay,
             StreamPtr stream, HandshakeConfig handshake, std::optional<Endpoint> target);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sets the stream's handlers, sends our side of the handshake, arms its
  // deadline.
  void start();
  // Closes with reason (logged, reported to the owner), unless closed already.
  void shutdown(const ConnectionError& reason);

  State state() const { return state_; }
  bool outbound() const { return outbound_; }
  // Outbound: the address dialled (the ConnectionMaker's target); inbound:
  // the stream's remote endpoint.
  Endpoint remote_address() const { return remote_address_; }
  Endpoint local_address() const { return local_address_; }
  // After the handshake only.
  const HandshakeResult& handshake() const { return *result_; }
  bool handshake_done() const { return result_.has_value(); }
  PeerName remote_name() const { return result_ ? result_->remote.name : PeerName{}; }
  uint64_t uid() const { return result_ ? result_->connection_uid : 0; }
  bool encrypted() const { return channel_ && channel_->encrypted(); }
  // "->[10.0.0.2:6783|aa:..:ff(nick)]", as Weave's log lines start.
  std::string describe() const;
  // What the forwarder says of itself; empty without one.
  std::string overlay_attrs() const { return forwarder_ ? forwarder_->attrs() : std::string(); }
  // The last error, once failed.
  const std::optional<ConnectionError>& error() const { return error_; }

  // Set by the owner when it added the connection to the topology.
  void set_added(bool added) { added_ = added; }
  bool added() const { return added_; }

  // Gossip to the remote, coalesced per channel while the stream is busy.
  GossipSenders& senders() { return senders_; }
  // Writes one gossip message now, unqueued (relayed unicasts). Fails when
  // the connection is not open or the message is too long.
  Result<void> send_gossip(const GossipMessage& msg);

  uint64_t messages_sent() const { return messages_sent_; }
  uint64_t messages_received() const { return messages_received_; }
  uint64_t bytes_sent() const { return bytes_sent_; }

  // Host metrics every connection adds to, closed ones included: all the
  // mesh wrote (handshakes, heartbeats, gossip), for measuring its cost.
  //   loom_mesh_sent_bytes_total      every byte written to the stream
  //   loom_mesh_sent_messages_total   framed messages after the handshake
  static constexpr const char* kSentBytesMetric = "loom_mesh_sent_bytes_total";
  static constexpr const char* kSentMessagesMetric = "loom_mesh_sent_messages_total";

 private:
  void on_data(ByteView bytes);
  void on_stream_closed(const Error& error);
  void handshake_succeeded();
  void handle(const ProtocolMessage& msg);
  // One message on the stream; false (and the connection shut down) when it
  // could not be encoded.
  bool send(ProtocolTag tag, ByteView payload);
  void write(ByteView bytes);
  void arm_heartbeat();
  void arm_read_deadline();
  void check_drained();
  void fail(const ConnectionError& reason);

  Host& host_;
  MeshConfig config_;
  ConnectionOwner& owner_;
  Overlay& overlay_;
  StreamPtr stream_;
  bool outbound_;
  PeerName ourself_;
  Endpoint remote_address_;
  Endpoint local_address_;
  State state_ = State::connecting;
  std::optional<Handshake> handshake_;
  std::optional<HandshakeResult> result_;
  std::optional<MessageChannel> channel_;
  std::unique_ptr<OverlayConnection> forwarder_;
  GossipSenders senders_;
  std::optional<ConnectionError> error_;
  bool added_ = false;
  bool closed_ = false;
  TimerId handshake_timer_ = 0;
  TimerId heartbeat_timer_ = 0;
  TimerId read_timer_ = 0;
  TimerId drain_timer_ = 0;
  Time last_receive_{};
  uint64_t messages_sent_ = 0;
  uint64_t messages_received_ = 0;
  uint64_t bytes_sent_ = 0;
  // Looked up once: Metrics references are stable.
  Counter& sent_bytes_metric_;
  Counter& sent_messages_metric_;
};

std::string_view to_string(Connection::State state);

}  // namespace loom::mesh
