// TcpStreamTransport: Host streams over ns-3's TCP, every segment simulated.
//
// Each Stream wraps one ns-3 TcpSocket. write() queues bytes and hands the
// socket what its TX buffer takes, the rest as the send callback frees room;
// pending() is what the socket has not taken yet (the analogue of bytes the
// kernel's send buffer has not taken live), and on_drained fires from the
// send callback when that falls to 0 after a write() left some. The transport keeps every
// stream alive until it has ended (closed by us and drained, or ended by the
// peer and reported), as a kernel keeps a socket after its last fd is gone.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ns3/callback.h>
#include <ns3/packet.h>
#include <ns3/ptr.h>
#include <ns3/socket.h>
#include <ns3/tcp-header.h>
#include <ns3/tcp-socket-base.h>

#include "model/host.h"
#include "sim/stream_end.h"
#include "sim/stream_transport.h"

namespace loom::sim {

class Ns3Host;
class TcpStreamTransport;

class TcpStream final : public StreamEnd<TcpStream>,
                        public std::enable_shared_from_this<TcpStream> {
 public:
  // id: the transport's key for it, in order of creation.
  TcpStream(Ns3Host& host, TcpStreamTransport& transport, uint64_t id,
            ns3::Ptr<ns3::Socket> socket);
  // Hooks the socket's callbacks to this stream; call once, after make_shared.
  void start();
  // The transport is going away with its host: no callback, no ns-3 call after.
  void detach();
  // The host crashed: reset the connection (RST to the peer), then detach().
  void abort();

  Endpoint local() const override { return local_; }
  Endpoint remote() const override { return remote_; }
  void write(ByteView bytes) override;
  size_t pending() const override { return pending_; }
  void close() override;

 private:
  friend class StreamEnd<TcpStream>;

  void on_readable();
  void on_send_room();
  void on_peer_close(bool error);
  void drain();
  void end(Error error);
  // on_drained, if a write() left bytes queued since the last report.
  void report_drained();
  void finish();

  TcpStreamTransport* transport_;
  uint64_t id_;
  ns3::Ptr<ns3::Socket> socket_;
  Endpoint local_;
  Endpoint remote_;
  std::deque<Bytes> queue_;
  size_t front_offset_ = 0;
  size_t pending_ = 0;
  bool drained_owed_ = false;
  bool reset_by_peer_ = false;  // a RST arrived (ns-3 reports it as a normal close)  // a write()
                                // left pending_ > 0; on_drained is due at 0
  Bytes read_buffer_;
};

class TcpStreamTransport final : public StreamTransport {
 public:
  explicit TcpStreamTransport(Ns3Host& host) : host_(host) {}
  ~TcpStreamTransport() override;

  Result<void> listen(uint16_t port, AcceptHandler on_accept) override;
  void connect(const Endpoint& to, ConnectHandler on_done) override;
  void crash() override;

  // Called by a stream that has nothing more to do, with its socket, which
  // ns-3 keeps (FIN_WAIT, TIME_WAIT) after close(): crash() resets those too.
  void forget(uint64_t stream, ns3::Ptr<ns3::Socket> closed_socket);

 private:
  struct Listener {
    ns3::Ptr<ns3::Socket> socket;
    AcceptHandler on_accept;
  };
  using SegmentTrace = ns3::Callback<void, ns3::Ptr<const ns3::Packet>, const ns3::TcpHeader&,
                                     ns3::Ptr<const ns3::TcpSocketBase>>;
  struct Attempt {
    ns3::Ptr<ns3::Socket> socket;
    Endpoint to;
    ConnectHandler on_done;
    SegmentTrace on_segment;  // watches for the RST that ns-3 ignores in SYN_SENT
  };

  ns3::Ptr<ns3::Socket> new_socket();
  void accepted(uint16_t port, ns3::Ptr<ns3::Socket> socket);
  void connected(uint64_t attempt);
  void connect_failed(uint64_t attempt, const std::string& reason);
  Attempt take_attempt(std::map<uint64_t, Attempt>::iterator it);
  std::shared_ptr<TcpStream> adopt(ns3::Ptr<ns3::Socket> socket);

  Ns3Host& host_;
  std::map<uint16_t, Listener> listeners_;
  uint64_t next_attempt_ = 0;
  std::map<uint64_t, Attempt> attempts_;
  // By id, not address: crash() resets them in this order, which must not
  // depend on the heap.
  uint64_t next_stream_ = 0;
  std::map<uint64_t, std::shared_ptr<TcpStream>> streams_;
  // Sockets closed by this side that may still hold their ports; pruned of
  // those ns-3 has released whenever the list doubles.
  std::vector<ns3::Ptr<ns3::Socket>> closed_;
  size_t prune_at_ = 64;
  // Expires with the transport: ns-3 copies a listener's accept callback
  // into connections still in their handshake, which may complete later.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace loom::sim
