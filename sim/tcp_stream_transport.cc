#include "sim/tcp_stream_transport.h"

#include <algorithm>
#include <string>
#include <utility>

#include <ns3/boolean.h>
#include <ns3/inet-socket-address.h>
#include <ns3/packet.h>
#include <ns3/rtt-estimator.h>
#include <ns3/simulator.h>
#include <ns3/tcp-socket-factory.h>
#include <ns3/uinteger.h>

#include "sim/message_stream_transport.h"
#include "sim/ns3_host.h"

namespace loom::sim {

namespace {

// Largest TCP payload in a 1500-byte IP packet (20 IP + 20 TCP); ns-3's
// own default is 536.
constexpr uint32_t kSegmentSize = 1460;

std::string describe(ns3::Socket::SocketErrno error) {
  switch (error) {
    case ns3::Socket::ERROR_NOROUTETOHOST:
      return "no route to host";
    case ns3::Socket::ERROR_ADDRINUSE:
      return "address in use";
    case ns3::Socket::ERROR_ADDRNOTAVAIL:
      return "address not available";
    case ns3::Socket::ERROR_SHUTDOWN:
      return "shut down";
    case ns3::Socket::ERROR_NOTCONN:
      return "not connected";
    default:
      return "socket error " + std::to_string(static_cast<int>(error));
  }
}

Endpoint endpoint_of(const ns3::Address& address) {
  if (!ns3::InetSocketAddress::IsMatchingType(address)) return {};
  const auto inet = ns3::InetSocketAddress::ConvertFrom(address);
  return {from_ns3(inet.GetIpv4()), inet.GetPort()};
}

using SocketCallback = ns3::Callback<void, ns3::Ptr<ns3::Socket>>;

// ns-3 3.37 has no public way to abort a connection (what Linux does for a
// socket closed with unread data or SO_LINGER 0): TcpSocketBase::SendRST()
// sends the RST and releases the endpoint, but it is protected. A pointer to
// it, formed through a derived class, reaches it; nothing of ns-3 changes.
struct TcpReset : ns3::TcpSocketBase {
  static void send(ns3::TcpSocketBase& socket) { (socket.*(&TcpReset::SendRST))(); }
};

// ns-3 3.37 takes a listener whose receive window is still 0 (no SYN has
// reached it yet) for a zero-window connection when another segment does (a
// stray RST from a dying peer's connect), and its persist timer then
// crashes on the empty send buffer (TcpSocketBase::PersistTimeout). A
// listener sends nothing: start it with the window a first SYN would give.
struct TcpListenerWindow : ns3::TcpSocketBase {
  static void open(ns3::TcpSocketBase& socket) { socket.*(&TcpListenerWindow::m_rWnd) = 65535; }
};

// ns-3 3.37 (timestamps off) takes an RTT sample across a retransmitted SYN
// or SYN-ACK, which Karn's algorithm forbids: one SYN lost to a full queue
// leaves the connection with a 9 s RTO, and its first lost data segment then
// stalls it that long (a mesh handshake times out). As RFC 6298 (5.7) and
// Linux do, such a connection starts from a fresh estimate and a 3 s RTO.
// The members are protected; pointers to them, formed through a derived
// class, reach them, as TcpReset does.
struct TcpHandshakeRetransmitted : ns3::TcpSocketBase {
  static void fix_rto(ns3::TcpSocketBase& socket) {
    // CompleteFork and Connect start the count at the retries, the first
    // SYN (SYN-ACK) takes one; fewer left means one was sent again.
    if (socket.*(&TcpHandshakeRetransmitted::m_synCount) + 1 >=
        socket.*(&TcpHandshakeRetransmitted::m_synRetries)) {
      return;
    }
    (socket.*(&TcpHandshakeRetransmitted::m_rtt))->Reset();
    socket.*(&TcpHandshakeRetransmitted::m_rto) = ns3::Seconds(3);
  }
};

// Whether ns-3 still holds the socket's endpoint (its port).
bool holds_port(const ns3::Ptr<ns3::Socket>& socket) {
  ns3::Address address;
  return socket->GetSockName(address) == 0 && endpoint_of(address).port != 0;
}

// Resets a connection, if ns-3 still holds it, calling nothing of ours.
void reset_socket(const ns3::Ptr<ns3::Socket>& socket) {
  socket->SetRecvCallback(SocketCallback());
  socket->SetSendCallback(ns3::Callback<void, ns3::Ptr<ns3::Socket>, uint32_t>());
  socket->SetCloseCallbacks(SocketCallback(), SocketCallback());
  if (!holds_port(socket)) return;
  if (auto tcp = ns3::DynamicCast<ns3::TcpSocketBase>(socket)) TcpReset::send(*tcp);
}

}  // namespace

// --- TcpStream ---

TcpStream::TcpStream(Ns3Host& host, TcpStreamTransport& transport, uint64_t id,
                     ns3::Ptr<ns3::Socket> socket)
    : StreamEnd(host), transport_(&transport), id_(id), socket_(socket) {
  ns3::Address address;
  if (socket_->GetSockName(address) == 0) local_ = endpoint_of(address);
  if (socket_->GetPeerName(address) == 0) remote_ = endpoint_of(address);
}

void TcpStream::start() {
  if (auto tcp = ns3::DynamicCast<ns3::TcpSocketBase>(socket_)) {
    TcpHandshakeRetransmitted::fix_rto(*tcp);
  }
  std::weak_ptr<TcpStream> weak = shared_from_this();
  socket_->SetRecvCallback(SocketCallback([weak](ns3::Ptr<ns3::Socket>) {
    if (auto self = weak.lock()) self->on_readable();
  }));
  socket_->SetSendCallback(
      ns3::Callback<void, ns3::Ptr<ns3::Socket>, uint32_t>([weak](ns3::Ptr<ns3::Socket>, uint32_t) {
        if (auto self = weak.lock()) self->on_send_room();
      }));
  socket_->SetCloseCallbacks(SocketCallback([weak](ns3::Ptr<ns3::Socket>) {
                               if (auto self = weak.lock()) self->on_peer_close(false);
                             }),
                             SocketCallback([weak](ns3::Ptr<ns3::Socket>) {
                               if (auto self = weak.lock()) self->on_peer_close(true);
                             }));
  // ns-3 reports a RST through the normal-close callback, as it does a FIN;
  // the segments tell them apart.
  socket_->TraceConnectWithoutContext(
      "Rx", ns3::Callback<void, ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader&,
                          ns3::Ptr<const ns3::TcpSocketBase>>(
                [weak](ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader& header,
                       ns3::Ptr<const ns3::TcpSocketBase>) {
                  if (!(header.GetFlags() & ns3::TcpHeader::RST)) return;
                  if (auto self = weak.lock()) self->reset_by_peer_ = true;
                }));
  // Bytes may already wait in the socket (they came with the handshake).
  host_->later([weak] {
    if (auto self = weak.lock()) self->on_readable();
  });
}

void TcpStream::abort() {
  reset_socket(socket_);
  detach();
}

void TcpStream::detach() {
  state_ = State::done;
  host_ = nullptr;
  transport_ = nullptr;
}

void TcpStream::write(ByteView bytes) {
  if (state_ != State::open || bytes.empty()) return;
  queue_.push_back(bytes.to_bytes());
  pending_ += bytes.size();
  drain();
  if (state_ != State::open) return;
  if (pending_ > 0) {
    drained_owed_ = true;
  } else if (drained_owed_) {
    // An earlier backlog went out inside this call: report it from the loop.
    std::weak_ptr<TcpStream> weak = shared_from_this();
    host_->later([weak] {
      auto self = weak.lock();
      if (self && self->state_ == State::open && self->pending_ == 0) self->report_drained();
    });
  }
}

void TcpStream::close() {
  auto self = shared_from_this();
  if (state_ == State::open) {
    state_ = State::closing;
    held_.clear();
    drain();
    if (state_ == State::closing && queue_.empty()) finish();
  } else if (state_ == State::ended) {
    finish();  // the peer is gone; nothing is reported any more
  }
}

void TcpStream::on_readable() {
  auto self = shared_from_this();
  while (state_ != State::done) {
    ns3::Ptr<ns3::Packet> packet = socket_->Recv();
    if (!packet || packet->GetSize() == 0) break;
    if (state_ == State::closing) continue;  // closed by us: discarded
    read_buffer_.resize(packet->GetSize());
    packet->CopyData(read_buffer_.data(), packet->GetSize());
    deliver(read_buffer_);
  }
}

void TcpStream::on_send_room() {
  auto self = shared_from_this();
  if (state_ != State::open && state_ != State::closing) return;
  drain();
  if (state_ == State::closing && queue_.empty()) {
    finish();
  } else if (state_ == State::open && pending_ == 0) {
    report_drained();
  }
}

void TcpStream::report_drained() {
  if (!drained_owed_) return;
  drained_owed_ = false;
  // A copy: the handler may replace the handlers while it runs.
  auto on_drained = have_handlers_ ? handlers_.on_drained : nullptr;
  if (on_drained) host_->deliver(on_drained);
}

void TcpStream::on_peer_close(bool error) {
  auto self = shared_from_this();
  if (state_ == State::open) {
    on_readable();  // what the peer sent before closing comes first
    if (state_ != State::open) return;
    if (reset_by_peer_) {
      end(make_error("connection with " + remote_.to_string() + " broken: reset by peer"));
    } else if (error) {
      const ns3::Socket::SocketErrno errno_value = socket_->GetErrno();
      // ns-3 gives up retransmitting without setting an errno.
      end(make_error("connection with " + remote_.to_string() + " broken: " +
                     (errno_value == ns3::Socket::ERROR_NOTERROR ? std::string("timed out")
                                                                 : describe(errno_value))));
    } else {
      end(make_error("connection with " + remote_.to_string() + " closed by peer"));
    }
  } else if (state_ == State::closing) {
    finish();  // we were still sending; the peer will not read it
  }
}

void TcpStream::drain() {
  while (!queue_.empty()) {
    const uint32_t room = socket_->GetTxAvailable();
    if (room == 0) return;
    const Bytes& front = queue_.front();
    const auto count = static_cast<uint32_t>(std::min<size_t>(room, front.size() - front_offset_));
    const int sent = socket_->Send(ns3::Create<ns3::Packet>(front.data() + front_offset_, count));
    if (sent <= 0) {
      // The socket had room and refused: it is no longer connected. Reported
      // from the event loop, since drain() runs inside write().
      queue_.clear();
      front_offset_ = 0;
      pending_ = 0;
      drained_owed_ = false;  // on_close will report instead
      std::weak_ptr<TcpStream> weak = shared_from_this();
      const std::string reason = describe(socket_->GetErrno());
      host_->later([weak, reason] {
        auto self = weak.lock();
        if (!self) return;
        if (self->state_ == State::open) {
          self->end(
              make_error("connection with " + self->remote_.to_string() + " broken: " + reason));
        } else if (self->state_ == State::closing) {
          self->finish();
        }
      });
      return;
    }
    front_offset_ += static_cast<size_t>(sent);
    pending_ -= static_cast<size_t>(sent);
    if (front_offset_ == front.size()) {
      queue_.pop_front();
      front_offset_ = 0;
    }
  }
}

void TcpStream::end(Error error) {
  queue_.clear();
  front_offset_ = 0;
  pending_ = 0;
  drained_owed_ = false;
  ended(std::move(error));
}

void TcpStream::finish() {
  auto self = shared_from_this();
  if (state_ == State::done) return;
  state_ = State::done;
  queue_.clear();
  front_offset_ = 0;
  pending_ = 0;
  held_.clear();
  socket_->Close();  // TCP sends what its buffer holds, then FIN
  transport_->forget(id_, socket_);
}

// --- TcpStreamTransport ---

TcpStreamTransport::~TcpStreamTransport() {
  for (auto& [port, listener] : listeners_) {
    listener.socket->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>());
  }
  for (auto& [id, attempt] : attempts_) {
    attempt.socket->TraceDisconnectWithoutContext("Rx", attempt.on_segment);
    attempt.socket->SetConnectCallback(SocketCallback(), SocketCallback());
    attempt.socket->SetCloseCallbacks(SocketCallback(), SocketCallback());
  }
  for (auto& [id, stream] : streams_) stream->detach();
}

void TcpStreamTransport::crash() {
  alive_.reset();
  for (auto& [port, listener] : listeners_) {
    listener.socket->SetAcceptCallback(
        ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
        ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>());
    listener.socket->Close();
  }
  listeners_.clear();
  for (auto& [id, attempt] : attempts_) {
    attempt.socket->TraceDisconnectWithoutContext("Rx", attempt.on_segment);
    attempt.socket->SetConnectCallback(SocketCallback(), SocketCallback());
    attempt.socket->SetCloseCallbacks(SocketCallback(), SocketCallback());
    attempt.socket->Close();  // in SYN_SENT, ns-3 sends a RST itself
  }
  attempts_.clear();
  auto streams = std::move(streams_);
  streams_.clear();
  for (auto& [id, stream] : streams) stream->abort();
  for (auto& socket : closed_) reset_socket(socket);
  closed_.clear();
}

ns3::Ptr<ns3::Socket> TcpStreamTransport::new_socket() {
  auto socket = ns3::Socket::CreateSocket(host_.node(), ns3::TcpSocketFactory::GetTypeId());
  socket->SetAttribute("SegmentSize", ns3::UintegerValue(kSegmentSize));
  // ns-3 3.37 with timestamps on silently drops a RST without the option in
  // SYN_SENT, so a refused connect would only fail after the SYN retries
  // (about three minutes). Without them a refusal fails at once.
  socket->SetAttribute("Timestamp", ns3::BooleanValue(false));
  return socket;
}

Result<void> TcpStreamTransport::listen(uint16_t port, AcceptHandler on_accept) {
  const std::string where = Endpoint{host_.address(), port}.to_string();
  if (listeners_.count(port) != 0) return make_error("cannot listen on " + where + ": in use");
  auto socket = new_socket();
  if (socket->Bind(ns3::InetSocketAddress(to_ns3(host_.address()), port)) != 0 ||
      socket->Listen() != 0) {
    const std::string reason = describe(socket->GetErrno());
    socket->Close();
    return make_error("cannot listen on " + where + ": " + reason);
  }
  if (auto tcp = ns3::DynamicCast<ns3::TcpSocketBase>(socket)) TcpListenerWindow::open(*tcp);
  std::weak_ptr<int> alive = alive_;
  socket->SetAcceptCallback(
      ns3::MakeNullCallback<bool, ns3::Ptr<ns3::Socket>, const ns3::Address&>(),
      ns3::Callback<void, ns3::Ptr<ns3::Socket>, const ns3::Address&>(
          [this, port, alive](ns3::Ptr<ns3::Socket> accepted_socket, const ns3::Address&) {
            if (alive.expired()) {
              // The handshake began before the host crashed: nobody is
              // left to accept. Reset it once ns-3 is done with the segment.
              ns3::Simulator::ScheduleNow([accepted_socket] { reset_socket(accepted_socket); });
              return;
            }
            accepted(port, accepted_socket);
          }));
  listeners_.emplace(port, Listener{socket, std::move(on_accept)});
  return {};
}

void TcpStreamTransport::accepted(uint16_t port, ns3::Ptr<ns3::Socket> socket) {
  auto it = listeners_.find(port);
  if (it == listeners_.end()) {
    socket->Close();
    return;
  }
  AcceptHandler on_accept = it->second.on_accept;
  auto stream = adopt(socket);
  host_.deliver([&] { on_accept(stream); });
}

void TcpStreamTransport::connect(const Endpoint& to, ConnectHandler on_done) {
  const uint64_t id = ++next_attempt_;
  auto socket = new_socket();
  // ns-3 3.37 ignores a RST|ACK in SYN_SENT (it takes it for a stray ACK)
  // and would only give up after its SYN retries; a refusal is seen here.
  SegmentTrace on_segment([this, id](ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader& header,
                                     ns3::Ptr<const ns3::TcpSocketBase>) {
    if (header.GetFlags() & ns3::TcpHeader::RST) {
      host_.later([this, id] { connect_failed(id, "connection refused"); });
    }
  });
  socket->TraceConnectWithoutContext("Rx", on_segment);
  attempts_.emplace(id, Attempt{socket, to, std::move(on_done), on_segment});
  socket->SetConnectCallback(
      SocketCallback([this, id](ns3::Ptr<ns3::Socket>) { connected(id); }),
      SocketCallback([this, id](ns3::Ptr<ns3::Socket>) { connect_failed(id, "timed out"); }));
  // Before the handshake completes, a close means a reset.
  socket->SetCloseCallbacks(SocketCallback([this, id](ns3::Ptr<ns3::Socket>) {
                              connect_failed(id, "connection refused");
                            }),
                            SocketCallback([this, id](ns3::Ptr<ns3::Socket>) {
                              connect_failed(id, "connection refused");
                            }));
  const int bound = host_.address().is_any()
                        ? socket->Bind()
                        : socket->Bind(ns3::InetSocketAddress(to_ns3(host_.address()), 0));
  if (bound != 0 || socket->Connect(ns3::InetSocketAddress(to_ns3(to.addr), to.port)) != 0) {
    const std::string reason = describe(socket->GetErrno());
    host_.later([this, id, reason] { connect_failed(id, reason); });
  }
}

TcpStreamTransport::Attempt TcpStreamTransport::take_attempt(
    std::map<uint64_t, Attempt>::iterator it) {
  Attempt attempt = std::move(it->second);
  attempts_.erase(it);
  attempt.socket->TraceDisconnectWithoutContext("Rx", attempt.on_segment);
  attempt.socket->SetConnectCallback(SocketCallback(), SocketCallback());
  return attempt;
}

void TcpStreamTransport::connected(uint64_t id) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  Attempt attempt = take_attempt(it);
  auto stream = adopt(attempt.socket);
  host_.deliver([&] { attempt.on_done(StreamPtr(stream)); });
}

void TcpStreamTransport::connect_failed(uint64_t id, const std::string& reason) {
  auto it = attempts_.find(id);
  if (it == attempts_.end()) return;
  Attempt attempt = take_attempt(it);
  attempt.socket->SetCloseCallbacks(SocketCallback(), SocketCallback());
  attempt.socket->Close();  // stops the SYN retries
  host_.deliver(
      [&] { attempt.on_done(make_error("connect to " + attempt.to.to_string() + ": " + reason)); });
}

std::shared_ptr<TcpStream> TcpStreamTransport::adopt(ns3::Ptr<ns3::Socket> socket) {
  const uint64_t id = ++next_stream_;
  auto stream = std::make_shared<TcpStream>(host_, *this, id, socket);
  streams_.emplace(id, stream);
  stream->start();
  return stream;
}

void TcpStreamTransport::forget(uint64_t stream, ns3::Ptr<ns3::Socket> closed_socket) {
  closed_.push_back(std::move(closed_socket));
  if (closed_.size() >= prune_at_) {
    closed_.erase(
        std::remove_if(closed_.begin(), closed_.end(),
                       [](const ns3::Ptr<ns3::Socket>& socket) { return !holds_port(socket); }),
        closed_.end());
    prune_at_ = std::max<size_t>(64, 2 * closed_.size());
  }
  streams_.erase(stream);
}

// --- the factory ---

std::unique_ptr<StreamTransport> make_stream_transport(StreamFidelity fidelity, Ns3Host& host) {
  switch (fidelity) {
    case StreamFidelity::tcp:
      return std::make_unique<TcpStreamTransport>(host);
    case StreamFidelity::message:
      return std::make_unique<MessageStreamTransport>(host, *host.message_network());
  }
  return std::make_unique<TcpStreamTransport>(host);
}

}  // namespace loom::sim
