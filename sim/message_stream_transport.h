// MessageStreamTransport: Host streams as whole-message transfers
// (StreamFidelity::message), for runs too large for ns-3's TCP.
//
// Each write() is one transfer along the static route to the peer
// (MessageNetwork: per-link serialisation, FIFO queueing, propagation, the
// path's loss), retried after a TCP-like timeout when lost and delivered in
// order. The contract is TcpStreamTransport's (sim/stream_transport.h);
// docs/backend-sim.md, "Message fidelity", lists what differs in timing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/host.h"
#include "sim/message_network.h"
#include "sim/stream_end.h"
#include "sim/stream_transport.h"

namespace loom::sim {

class Ns3Host;
class MessageStream;
class MessageStreamTransport;

// The two ends of one connection (0: the side that connected). Transfers in
// flight hold it, so they can reach an end that is still there.
struct MessageConnection {
  MessageNetwork* network = nullptr;
  size_t host[2] = {0, 0};
  std::weak_ptr<MessageStream> end[2];
  // The end's host crashed or it gave up retrying: what reaches it now is
  // answered with a RST (once).
  bool dead[2] = {false, false};
  bool reset_sent[2] = {false, false};
  // When the last transfer from each side arrives: a RST from that side
  // comes after it, as it would on the wire.
  Time last_arrival[2] = {Time::zero(), Time::zero()};
};

class MessageStream final : public StreamEnd<MessageStream>,
                            public std::enable_shared_from_this<MessageStream> {
 public:
  MessageStream(Ns3Host& host, MessageStreamTransport& transport, uint64_t id,
                std::shared_ptr<MessageConnection> connection, int side, Endpoint local,
                Endpoint remote);
  // The transport is going away with its host: no callback, no call after.
  void detach();
  // The host crashed: the peer gets a RST, then detach().
  void abort();
  // A transfer from the peer: message `seq` of its side, bytes or its FIN.
  void arrived(uint64_t seq, const std::shared_ptr<const Bytes>& bytes, bool fin);
  void reset_by_peer();

  Endpoint local() const override { return local_; }
  Endpoint remote() const override { return remote_; }
  void write(ByteView bytes) override;
  size_t pending() const override;
  void close() override;

 private:
  friend class StreamEnd<MessageStream>;

  void transmit(uint64_t seq, std::shared_ptr<const Bytes> bytes, bool fin, int retries);
  void delivered();
  void gave_up();
  void take(const std::shared_ptr<const Bytes>& bytes, bool fin);
  void end(Error error);
  void finish();
  void watch_drain();
  void forget_sent();

  MessageStreamTransport* transport_;
  uint64_t id_;
  std::shared_ptr<MessageConnection> connection_;
  int side_;
  Endpoint local_;
  Endpoint remote_;
  uint64_t next_seq_ = 0;  // of our messages
  uint64_t expected_ = 0;  // the peer's next message in order
  std::map<uint64_t, std::pair<std::shared_ptr<const Bytes>, bool>> early_;  // out of order
  size_t in_flight_ = 0;  // our messages (and FIN) not yet delivered
  // Our messages still in the send buffer, as TCP's holds bytes until they
  // are acknowledged: each leaves it gradually, from when it was written
  // until its last byte's ACK is back (arrival plus the return delay), so a
  // congested path holds the writer back as TCP's would. pending() is what
  // of them exceeds the send buffer.
  struct Unacked {
    Time written;
    Time acked;
    size_t size;
  };
  // From unsent_head_ on (a vector, not a deque: libstdc++'s deque
  // allocates 576 bytes before its first element, and a thousand hosts
  // dialling each other hold half a million streams).
  std::vector<Unacked> unsent_;
  size_t unsent_head_ = 0;
  void drop_unsent() {
    unsent_.clear();
    unsent_head_ = 0;
  }
  // Bytes of unsent_ not yet acknowledged at t.
  double unacked_at(Time t) const;
  bool drained_owed_ = false;
  bool drain_watched_ = false;
};

class MessageStreamTransport final : public StreamTransport {
 public:
  MessageStreamTransport(Ns3Host& host, MessageNetwork& network);
  ~MessageStreamTransport() override;

  Result<void> listen(uint16_t port, AcceptHandler on_accept) override;
  void connect(const Endpoint& to, ConnectHandler on_done) override;
  void crash() override;

  // A SYN for `to` from `client` reached this host: the new end, or null
  // when nothing listens there. announce() then hands it to the listener.
  std::shared_ptr<MessageStream> accept(const std::shared_ptr<MessageConnection>& connection,
                                        const Endpoint& to, const Endpoint& client);
  void announce(const std::shared_ptr<MessageStream>& stream, uint16_t port);
  // A stream with nothing more to do.
  void forget(uint64_t stream) { streams_.erase(stream); }

 private:
  struct Attempt {
    Endpoint to;
    Endpoint local;
    size_t peer_host;
    ConnectHandler on_done;
  };
  void send_syn(uint64_t attempt, int tries);
  void syn_acked(uint64_t attempt, const std::shared_ptr<MessageConnection>& connection);
  void connect_failed(uint64_t attempt, const std::string& reason);
  std::shared_ptr<MessageStream> adopt(const std::shared_ptr<MessageConnection>& connection,
                                       int side, Endpoint local, Endpoint remote);

  Ns3Host& host_;
  MessageNetwork& network_;
  size_t index_;
  std::map<uint16_t, AcceptHandler> listeners_;
  uint64_t next_attempt_ = 0;
  std::map<uint64_t, Attempt> attempts_;
  uint64_t next_stream_ = 0;
  std::map<uint64_t, std::shared_ptr<MessageStream>> streams_;  // by id: crash() order
  uint16_t next_port_ = 49152;
  // Expires with the transport (or its crash): events in flight check it.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace loom::sim
