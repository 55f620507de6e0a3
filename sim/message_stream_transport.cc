#include "sim/message_stream_transport.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include <ns3/simulator.h>

#include "sim/ns3_host.h"

namespace loom::sim {

namespace {

using std::chrono::seconds;

// ns-3's TCP send buffer (128 KiB): pending() is what a writer has put
// beyond it that has not left the host yet.
constexpr size_t kSendBuffer = 128 * 1024;
// Retransmission as ns-3's TCP does it: data from a 1 s RTO doubling to a
// 60 s cap, given up after 6 retries (about two minutes); SYNs from 3 s,
// doubling, failing after the sixth times out (189 s).
constexpr Time kInitialRto = seconds(1);
constexpr Time kMaxRto = seconds(60);
constexpr int kDataRetries = 6;
constexpr Time kSynTimeout = seconds(3);
constexpr int kSynRetries = 5;

Time now() { return from_ns3(ns3::Simulator::Now()); }

template <typename F>
void schedule_at(Time at, F&& fn) {
  ns3::Simulator::Schedule(to_ns3(std::max(Time::zero(), at - now())), std::forward<F>(fn));
}

Time data_rto(int retries) {
  Time rto = kInitialRto;
  for (int i = 0; i < retries && rto < kMaxRto; ++i) rto *= 2;
  return std::min(rto, kMaxRto);
}

// Side `from` resets the connection: a RST reaches the other side one
// propagation delay later, after whatever `from` had already sent.
void send_reset(const std::shared_ptr<MessageConnection>& c, int from) {
  const int to = 1 - from;
  c->reset_sent[from] = true;
  if (c->dead[to]) return;
  const Time at =
      std::max(now() + c->network->propagation(c->host[from], c->host[to]), c->last_arrival[from]);
  schedule_at(at, [c, to] {
    if (auto end = c->end[to].lock()) end->reset_by_peer();
  });
}

// A transfer from side `from` reached the other side's host.
void transfer_arrived(const std::shared_ptr<MessageConnection>& c, int from, uint64_t seq,
                      const std::shared_ptr<const Bytes>& bytes, bool fin) {
  const int to = 1 - from;
  if (c->dead[to]) {
    if (!c->reset_sent[to] && !c->dead[from]) send_reset(c, to);
    return;
  }
  if (auto end = c->end[to].lock()) end->arrived(seq, bytes, fin);
}

}  // namespace

// --- MessageStream ---

MessageStream::MessageStream(Ns3Host& host, MessageStreamTransport& transport, uint64_t id,
                             std::shared_ptr<MessageConnection> connection, int side,
                             Endpoint local, Endpoint remote)
    : StreamEnd(host),
      transport_(&transport),
      id_(id),
      connection_(std::move(connection)),
      side_(side),
      local_(local),
      remote_(remote) {}

void MessageStream::detach() {
  state_ = State::done;
  host_ = nullptr;
  transport_ = nullptr;
}

void MessageStream::abort() {
  if (state_ != State::done) {
    connection_->dead[side_] = true;
    send_reset(connection_, side_);
  }
  detach();
}

void MessageStream::write(ByteView bytes) {
  if (state_ != State::open || bytes.empty()) return;
  forget_sent();
  ++in_flight_;
  transmit(next_seq_++, std::make_shared<const Bytes>(bytes.to_bytes()), false, 0);
  if (pending() > 0) {
    drained_owed_ = true;
    watch_drain();
  }
}

// Messages are acknowledged in the order written (one path, FIFO).
void MessageStream::forget_sent() {
  while (unsent_head_ < unsent_.size() && unsent_[unsent_head_].acked <= now()) ++unsent_head_;
  if (unsent_head_ == unsent_.size()) {
    drop_unsent();
  } else if (unsent_head_ >= 32 && unsent_head_ * 2 >= unsent_.size()) {
    unsent_.erase(unsent_.begin(), unsent_.begin() + static_cast<ptrdiff_t>(unsent_head_));
    unsent_head_ = 0;
  }
}

double MessageStream::unacked_at(Time t) const {
  double unacked = 0;
  for (size_t i = unsent_head_; i < unsent_.size(); ++i) {
    const Unacked& u = unsent_[i];
    if (t >= u.acked) continue;
    if (t <= u.written) {
      unacked += static_cast<double>(u.size);
    } else {
      unacked += static_cast<double>(u.size) * static_cast<double>((u.acked - t).count()) /
                 static_cast<double>((u.acked - u.written).count());
    }
  }
  return unacked;
}

size_t MessageStream::pending() const {
  const double unacked = unacked_at(now());
  const auto buffer = static_cast<double>(kSendBuffer);
  return unacked > buffer ? static_cast<size_t>(std::ceil(unacked - buffer)) : 0;
}

// Checks pending() again when it will have fallen to 0: the first moment
// the unacknowledged bytes fit the send buffer (they only decrease).
void MessageStream::watch_drain() {
  if (drain_watched_) return;
  const Time t = now();
  forget_sent();
  Time at = t;
  const auto buffer = static_cast<double>(kSendBuffer);
  if (unacked_at(t) > buffer) {
    Time lo = t;  // still over
    Time hi = t;  // within, once found
    for (size_t i = unsent_head_; i < unsent_.size(); ++i) hi = std::max(hi, unsent_[i].acked);
    while (hi - lo > Time(1)) {
      const Time mid = lo + (hi - lo) / 2;
      (unacked_at(mid) > buffer ? lo : hi) = mid;
    }
    at = hi;
  }
  drain_watched_ = true;
  std::weak_ptr<MessageStream> weak = shared_from_this();
  schedule_at(at, [weak] {
    auto self = weak.lock();
    if (!self) return;
    self->drain_watched_ = false;
    if (self->state_ != State::open || !self->drained_owed_) return;
    if (self->pending() > 0) {
      self->watch_drain();
      return;
    }
    self->drained_owed_ = false;
    auto on_drained = self->have_handlers_ ? self->handlers_.on_drained : nullptr;
    if (on_drained) self->host_->deliver(on_drained);
  });
}

void MessageStream::transmit(uint64_t seq, std::shared_ptr<const Bytes> bytes, bool fin,
                             int retries) {
  auto c = connection_;
  const size_t size = bytes ? bytes->size() : 0;
  auto sent = c->network->send(c->host[side_], c->host[1 - side_], size);
  // No path any more (routes are static, so only to an address that was
  // never reachable): as lost.
  const MessageNetwork::Transfer transfer =
      sent ? *sent : MessageNetwork::Transfer{now(), now(), true};
  if (retries == 0 && !fin) {
    // Its last byte's ACK returns one propagation delay after it arrives; a
    // lost message is taken to arrive at its first retransmission.
    const Time back = c->network->propagation(c->host[1 - side_], c->host[side_]);
    Time arrives = transfer.arrival;
    if (transfer.lost) arrives += data_rto(0) + (transfer.arrival - now());
    unsent_.push_back(Unacked{now(), std::max(arrives + back, now() + Time(1)), size});
  }
  std::weak_ptr<MessageStream> weak = shared_from_this();
  if (!transfer.lost) {
    c->last_arrival[side_] = std::max(c->last_arrival[side_], transfer.arrival);
    schedule_at(transfer.arrival, [c, from = side_, seq, bytes, fin, weak] {
      transfer_arrived(c, from, seq, bytes, fin);
      if (auto self = weak.lock()) self->delivered();
    });
    return;
  }
  // Noticed one RTO after it would have arrived; sent again, or given up.
  schedule_at(transfer.arrival + data_rto(retries), [weak, seq, bytes, fin, retries] {
    auto self = weak.lock();
    if (!self || (self->state_ != State::open && self->state_ != State::closing)) return;
    if (retries >= kDataRetries) {
      self->gave_up();
    } else {
      self->transmit(seq, bytes, fin, retries + 1);
    }
  });
}

void MessageStream::delivered() {
  if (in_flight_ > 0) --in_flight_;
  if (state_ == State::closing && in_flight_ == 0) finish();
}

void MessageStream::gave_up() {
  connection_->dead[side_] = true;
  if (state_ == State::open) {
    end(make_error("connection with " + remote_.to_string() + " broken: timed out"));
  } else {
    finish();
  }
}

void MessageStream::arrived(uint64_t seq, const std::shared_ptr<const Bytes>& bytes, bool fin) {
  if (state_ != State::open) return;  // closed by us, or ended: discarded
  if (seq != expected_) {
    early_.emplace(seq, std::make_pair(bytes, fin));
    return;
  }
  auto self = shared_from_this();
  take(bytes, fin);
  ++expected_;
  for (auto it = early_.find(expected_); it != early_.end(); it = early_.find(expected_)) {
    auto [held_bytes, held_fin] = std::move(it->second);
    early_.erase(it);
    take(held_bytes, held_fin);
    ++expected_;
  }
}

void MessageStream::take(const std::shared_ptr<const Bytes>& bytes, bool fin) {
  if (state_ != State::open) return;  // ended by an earlier message
  if (fin) {
    end(make_error("connection with " + remote_.to_string() + " closed by peer"));
  } else {
    deliver(*bytes);
  }
}

void MessageStream::reset_by_peer() {
  if (state_ == State::open) {
    end(make_error("connection with " + remote_.to_string() + " broken: reset by peer"));
  } else if (state_ == State::closing) {
    finish();
  }
}

void MessageStream::close() {
  auto self = shared_from_this();
  if (state_ == State::open) {
    state_ = State::closing;
    held_.clear();
    drop_unsent();
    drained_owed_ = false;
    ++in_flight_;
    transmit(next_seq_++, nullptr, true, 0);  // the FIN, after everything written
  } else if (state_ == State::ended) {
    finish();  // the peer is gone; nothing is reported any more
  }
}

void MessageStream::end(Error error) {
  drop_unsent();
  drained_owed_ = false;
  ended(std::move(error));
}

void MessageStream::finish() {
  auto self = shared_from_this();
  if (state_ == State::done) return;
  state_ = State::done;
  held_.clear();
  drop_unsent();
  early_.clear();
  if (transport_ != nullptr) transport_->forget(id_);
}

// --- MessageStreamTransport ---

MessageStreamTransport::MessageStreamTransport(Ns3Host& host, MessageNetwork& network)
    : host_(host), network_(network), index_(host.index()) {
  network_.attach(index_, this);
}

MessageStreamTransport::~MessageStreamTransport() {
  network_.detach(index_, this);
  for (auto& [id, stream] : streams_) stream->detach();
}

void MessageStreamTransport::crash() {
  alive_.reset();
  network_.detach(index_, this);
  listeners_.clear();
  attempts_.clear();  // a SYN-ACK for them will be answered with a RST
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->abort();
}

Result<void> MessageStreamTransport::listen(uint16_t port, AcceptHandler on_accept) {
  if (listeners_.count(port) != 0) {
    return make_error("cannot listen on " + Endpoint{host_.address(), port}.to_string() +
                      ": in use");
  }
  listeners_.emplace(port, std::move(on_accept));
  return {};
}

void MessageStreamTransport::connect(const Endpoint& to, ConnectHandler on_done) {
  const uint64_t id = ++next_attempt_;
  const auto peer = network_.host_of(to.addr);
  const Endpoint local{host_.address(), next_port_};
  next_port_ = next_port_ == 65535 ? 49152 : next_port_ + 1;
  attempts_.emplace(id, Attempt{to, local, peer.value_or(0), std::move(on_done)});
  if (!peer) {
    host_.later([this, id] { connect_failed(id, "no route to host"); });
    return;
  }
  send_syn(id, 0);
}

void MessageStreamTransport::send_syn(uint64_t id, int tries) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  const Attempt& attempt = it->second;
  const auto syn = network_.send(index_, attempt.peer_host, 0);
  if (!syn) {
    host_.later([this, id] { connect_failed(id, "no route to host"); });
    return;
  }
  std::weak_ptr<int> alive = alive_;
  if (syn->lost) {
    schedule_at(now() + kSynTimeout * (int64_t{1} << tries), [this, alive, id, tries] {
      if (alive.expired()) return;
      if (tries >= kSynRetries) {
        connect_failed(id, "timed out");
      } else {
        send_syn(id, tries + 1);
      }
    });
    return;
  }
  schedule_at(
      syn->arrival, [this, alive, id, network = &network_, client_host = index_,
                     server_host = attempt.peer_host, to = attempt.to, client = attempt.local] {
        auto c = std::make_shared<MessageConnection>();
        c->network = network;
        c->host[0] = client_host;
        c->host[1] = server_host;
        MessageStreamTransport* server = network->transport(server_host);
        auto accepted = server ? server->accept(c, to, client) : nullptr;
        if (!accepted) {
          // Nothing listens (or the host is down): a RST answers at once.
          schedule_at(now() + network->propagation(server_host, client_host), [this, alive, id] {
            if (!alive.expired()) connect_failed(id, "connection refused");
          });
          return;
        }
        // The SYN-ACK goes before anything the listener writes back. (Its loss
        // is not drawn: the handshake's loss is the SYN's.)
        const auto syn_ack = network->send(server_host, client_host, 0);
        c->last_arrival[1] = syn_ack->arrival;
        schedule_at(syn_ack->arrival, [this, alive, id, c] {
          if (alive.expired() || attempts_.count(id) == 0) {
            c->dead[0] = true;  // nobody waits for it any more
            send_reset(c, 0);
            return;
          }
          syn_acked(id, c);
        });
        server->announce(accepted, to.port);
      });
}

std::shared_ptr<MessageStream> MessageStreamTransport::accept(
    const std::shared_ptr<MessageConnection>& connection, const Endpoint& to,
    const Endpoint& client) {
  if (listeners_.count(to.port) == 0) return nullptr;
  return adopt(connection, 1, to, client);
}

void MessageStreamTransport::announce(const std::shared_ptr<MessageStream>& stream, uint16_t port) {
  auto it = listeners_.find(port);
  if (it == listeners_.end()) return;
  AcceptHandler on_accept = it->second;  // a copy: the handler may listen again
  host_.deliver([&] { on_accept(stream); });
}

void MessageStreamTransport::syn_acked(uint64_t id,
                                       const std::shared_ptr<MessageConnection>& connection) {
  auto it = attempts_.find(id);
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  auto stream = adopt(connection, 0, attempt.local, attempt.to);
  host_.deliver([&] { attempt.on_done(StreamPtr(stream)); });
}

void MessageStreamTransport::connect_failed(uint64_t id, const std::string& reason) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  host_.deliver(
      [&] { attempt.on_done(make_error("connect to " + attempt.to.to_string() + ": " + reason)); });
}

std::shared_ptr<MessageStream> MessageStreamTransport::adopt(
    const std::shared_ptr<MessageConnection>& connection, int side, Endpoint local,
    Endpoint remote) {
  const uint64_t id = ++next_stream_;
  auto stream = std::make_shared<MessageStream>(host_, *this, id, connection, side, local, remote);
  connection->end[side] = stream;
  streams_.emplace(id, stream);
  return stream;
}

}  // namespace loom::sim
