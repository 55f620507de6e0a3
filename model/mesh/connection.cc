#include "model/mesh/connection.h"

#include <utility>

namespace loom::mesh {

namespace {

ConnectionError handshake_error(const HandshakeError& e) {
  switch (e.kind) {
    case HandshakeFailure::kConnectToSelf:
      return ConnectionError{ConnectionError::Kind::connect_to_self, e.reason};
    case HandshakeFailure::kNameCollision:
      return ConnectionError{ConnectionError::Kind::name_collision, e.reason};
    default:
      return ConnectionError::other(e.reason);
  }
}

// Weave's drain poll fallback, for backends that do not report on_drained.
constexpr Time kDrainPoll = std::chrono::milliseconds(20);

}  // namespace

Connection::Connection(Host& host, const MeshConfig& config, ConnectionOwner& owner,
                       Overlay& overlay, StreamPtr stream, HandshakeConfig handshake,
                       std::optional<Endpoint> target)
    : host_(host),
      config_(config),
      owner_(owner),
      overlay_(overlay),
      stream_(std::move(stream)),
      outbound_(handshake.outbound),
      ourself_(handshake.name),
      remote_address_(target ? *target : stream_->remote()),
      local_address_(stream_->local()),
      senders_(
          handshake.name, [this](GossipMessage msg) { (void)send_gossip(msg); },
          [this] { return closed_ || stream_->pending() > 0; }),
      sent_bytes_metric_(host.metrics().counter(kSentBytesMetric)),
      sent_messages_metric_(host.metrics().counter(kSentMessagesMetric)) {
  handshake.min_version = static_cast<uint8_t>(config.protocol_min_version);
  handshake.max_version = static_cast<uint8_t>(config.protocol_max_version);
  handshake_.emplace(std::move(handshake), host_.random());
}

Connection::~Connection() {
  host_.cancel(handshake_timer_);
  host_.cancel(heartbeat_timer_);
  host_.cancel(read_timer_);
  host_.cancel(drain_timer_);
  if (forwarder_) forwarder_->stop();
  if (!closed_) stream_->close();
}

void Connection::start() {
  Stream::Handlers handlers;
  handlers.on_data = [this](ByteView bytes) { on_data(bytes); };
  handlers.on_close = [this](const Error& error) { on_stream_closed(error); };
  handlers.on_drained = [this] {
    if (!closed_ && stream_->pending() == 0) senders_.ready();
  };
  stream_->set_handlers(std::move(handlers));
  write(handshake_->take_output());
  handshake_timer_ = host_.after(config_.handshake_timeout, [this] {
    handshake_timer_ = 0;
    std::string reason("handshake timed out after ");
    reason.append(std::to_string(config_.handshake_timeout.count() / 1000000)).append(" ms");
    fail(ConnectionError::other(std::move(reason)));
  });
}

void Connection::shutdown(const ConnectionError& reason) { fail(reason); }

std::string Connection::describe() const {
  std::string out(outbound_ ? "->[" : "<-[");
  out.append(remote_address_.to_string());
  if (result_) {
    out.append("|").append(result_->remote.name.to_string());
    out.append("(").append(result_->remote.nickname).append(")");
  }
  out.append("]");
  return out;
}

void Connection::on_data(ByteView bytes) {
  if (closed_) return;
  if (state_ == State::connecting) {
    Handshake::Status status = handshake_->feed(bytes);
    Bytes out = handshake_->take_output();
    if (!out.empty()) write(out);
    if (status == Handshake::Status::kFailed) {
      fail(handshake_error(handshake_->error()));
      return;
    }
    if (status == Handshake::Status::kSucceeded) handshake_succeeded();
    return;
  }
  auto messages = channel_->feed(bytes);
  if (!messages) {
    fail(ConnectionError::other(messages.error().message));
    return;
  }
  for (const ProtocolMessage& msg : *messages) {
    handle(msg);
    if (closed_) return;
  }
}

void Connection::on_stream_closed(const Error& error) {
  fail(ConnectionError::other(error.message.empty() ? "connection closed" : error.message));
}

void Connection::handshake_succeeded() {
  host_.cancel(handshake_timer_);
  handshake_timer_ = 0;
  result_ = handshake_->result();
  channel_.emplace(handshake_->take_channel());
  state_ = State::pending;

  OverlayConnectionParams params;
  params.remote_peer = result_->remote.name;
  params.local_address = local_address_;
  params.remote_address = stream_->remote();
  params.outbound = outbound_;
  params.connection_uid = result_->connection_uid;
  params.session_key = result_->session_key;
  params.send_control = [this](ByteView msg) {
    if (!closed_) send(ProtocolTag::kOverlayControlMsg, msg);
  };
  params.remote_features = result_->features;
  OverlayCallbacks callbacks;
  callbacks.established = [this] {
    if (closed_ || state_ != State::pending) return;
    state_ = State::established;
    LOOM_LOG(host_.log(), "mesh", info, describe() << ": connection fully established");
    owner_.connection_established(*this);
  };
  callbacks.failed = [this](const Error& error) { fail(ConnectionError::other(error.message)); };
  auto forwarder = overlay_.prepare(std::move(params), std::move(callbacks));
  if (!forwarder) {
    fail(ConnectionError::other(forwarder.error().message));
    return;
  }
  forwarder_ = std::move(*forwarder);

  // As in Weave, the connection enters the topology only once its forwarder
  // exists, and gossip is read only once it is in the topology.
  if (auto added = owner_.add_connection(*this); !added) {
    fail(ConnectionError::other(added.error().message));
    return;
  }
  LOOM_LOG(host_.log(), "mesh", info,
           describe() << ": connection ready; using protocol version " << int(result_->version));
  last_receive_ = host_.now();
  arm_heartbeat();
  arm_read_deadline();
  forwarder_->confirm();
  on_data(ByteView());  // messages that followed the features
}

void Connection::handle(const ProtocolMessage& msg) {
  ++messages_received_;
  last_receive_ = host_.now();
  switch (msg.tag) {
    case ProtocolTag::kHeartbeat:
      return;
    case ProtocolTag::kGossip:
    case ProtocolTag::kGossipUnicast:
    case ProtocolTag::kGossipBroadcast: {
      auto gossip = decode_gossip(msg.tag, msg.payload);
      if (!gossip) {
        fail(ConnectionError::other(gossip.error().message));
        return;
      }
      // What this message took on the stream: length prefix, tag, seal.
      const size_t wire_bytes = kLengthPrefixSize + 1 + msg.payload.size() +
                                (encrypted() ? crypto::kSecretboxOverhead : 0);
      if (auto handled = owner_.gossip_received(*this, *gossip, wire_bytes); !handled) {
        fail(ConnectionError::other(handled.error().message));
      }
      return;
    }
    case ProtocolTag::kOverlayControlMsg:
      if (forwarder_) forwarder_->control_message(msg.payload);
      return;
    default:
      LOOM_LOG(host_.log(), "mesh", debug,
               describe() << ": ignoring message with tag " << int(msg.tag) << " ("
                          << tag_name(msg.tag) << ")");
      return;
  }
}

Result<void> Connection::send_gossip(const GossipMessage& msg) {
  if (closed_ || !channel_) return make_error("connection not open");
  auto payload = encode_gossip(msg);
  if (!payload) return payload.error();
  const uint64_t written = bytes_sent_;
  if (!send(gossip_tag(msg.kind), *payload)) return make_error("message too long");
  owner_.gossip_sent(*this, msg, static_cast<size_t>(bytes_sent_ - written));
  return {};
}

bool Connection::send(ProtocolTag tag, ByteView payload) {
  auto bytes = channel_->encode(tag, payload);
  if (!bytes) {
    fail(ConnectionError::other(bytes.error().message));
    return false;
  }
  ++messages_sent_;
  sent_messages_metric_.add();
  write(*bytes);
  return true;
}

void Connection::write(ByteView bytes) {
  bytes_sent_ += bytes.size();
  sent_bytes_metric_.add(bytes.size());
  stream_->write(bytes);
  if (stream_->pending() > 0 && drain_timer_ == 0) {
    drain_timer_ = host_.after(kDrainPoll, [this] {
      drain_timer_ = 0;
      check_drained();
    });
  }
}

void Connection::check_drained() {
  if (closed_) return;
  if (stream_->pending() == 0) {
    senders_.ready();
  } else if (drain_timer_ == 0) {
    drain_timer_ = host_.after(kDrainPoll, [this] {
      drain_timer_ = 0;
      check_drained();
    });
  }
}

void Connection::arm_heartbeat() {
  heartbeat_timer_ = host_.after(config_.heartbeat_interval, [this] {
    heartbeat_timer_ = 0;
    if (closed_) return;
    if (send(ProtocolTag::kHeartbeat, ByteView())) arm_heartbeat();
  });
}

void Connection::arm_read_deadline() {
  const Time due = last_receive_ + config_.read_timeout;
  read_timer_ = host_.after(due - host_.now(), [this] {
    read_timer_ = 0;
    if (closed_) return;
    if (host_.now() - last_receive_ >= config_.read_timeout) {
      std::string reason("read timeout: no message for ");
      reason.append(std::to_string(config_.read_timeout.count() / 1000000)).append(" ms");
      fail(ConnectionError::other(std::move(reason)));
      return;
    }
    arm_read_deadline();
  });
}

void Connection::fail(const ConnectionError& reason) {
  if (closed_) return;
  closed_ = true;
  state_ = State::failed;
  error_ = reason;
  host_.cancel(handshake_timer_);
  host_.cancel(heartbeat_timer_);
  host_.cancel(read_timer_);
  host_.cancel(drain_timer_);
  handshake_timer_ = heartbeat_timer_ = read_timer_ = drain_timer_ = 0;
  if (forwarder_) forwarder_->stop();
  stream_->close();
  LOOM_LOG(host_.log(), "mesh", info,
           describe() << ": connection shutting down due to error: " << reason.message);
  owner_.connection_closed(*this, reason);
}

std::string_view to_string(Connection::State state) {
  switch (state) {
    case Connection::State::connecting:
      return "connecting";
    case Connection::State::pending:
      return "pending";
    case Connection::State::established:
      return "established";
    case Connection::State::failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace loom::mesh
