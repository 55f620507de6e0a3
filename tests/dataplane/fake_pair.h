// FakePair: two DataPlanes joined by hand, without a mesh or a simulator,
// on in-memory Hosts whose UDP datagrams and timers the test steps through.
// For what ns-3 worlds cannot show: a datagram seen on the wire, replayed,
// reordered, corrupted or forged at the switch level, and for benchmarks of
// the per-frame path.
//
// The "wire" queues every datagram; run() delivers them (through the
// test's filter, which may drop, keep or alter them) and fires due timers,
// in order, never from inside a Host call. Control messages between the two
// forwarders travel the same queue.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/dataplane/data_plane.h"
#include "model/host.h"
#include "model/mesh/protocol.h"

namespace loom::dataplane::testing {

struct Datagram {
  Endpoint from;
  Endpoint to;
  Bytes payload;
};

class FakeWire;

class FakeSocket final : public DatagramSocket {
 public:
  FakeSocket(FakeWire& wire, Endpoint local) : wire_(wire), local_(local) {}
  uint16_t port() const override { return local_.port; }
  bool send_to(const Endpoint& to, ByteView payload) override;
  void on_receive(Receiver receiver) override { receiver_ = std::move(receiver); }
  void deliver(const Endpoint& from, ByteView payload) {
    if (receiver_) receiver_(from, payload);
  }

 private:
  FakeWire& wire_;
  Endpoint local_;
  Receiver receiver_;
};

// The pods' side: records what the data plane delivers.
class FakePort final : public FramePort {
 public:
  bool send(ByteView frame) override {
    ++delivered;
    if (keep_last) last.assign(frame.begin(), frame.end());
    return true;
  }
  void on_receive(Receiver receiver) override { receiver_ = std::move(receiver); }
  size_t mtu() const override { return 1376; }
  void from_pod(ByteView frame) {
    if (receiver_) receiver_(frame);
  }
  uint64_t delivered = 0;
  bool keep_last = true;  // benchmarks turn the copy off
  Bytes last;

 private:
  Receiver receiver_;
};

class FakeHost final : public Host {
 public:
  FakeHost(FakeWire& wire, std::string name, Ipv4 address, uint64_t seed)
      : wire_(wire), name_(std::move(name)), address_(address), random_(seed) {}
  std::string_view name() const override { return name_; }
  Time now() const override;
  TimerId after(Time delay, Callback fn) override;
  void cancel(TimerId id) override;
  Random& random() override { return random_; }
  Ipv4 address() const override { return address_; }
  Result<DatagramSocket*> udp(uint16_t port) override;
  Result<void> listen(uint16_t, AcceptHandler) override { return make_error("no streams here"); }
  void connect(const Endpoint&, ConnectHandler) override {}
  FramePort& bridge() override { return port; }
  Store& store() override { return store_; }
  Log& log() override { return log_; }
  Metrics& metrics() override { return metrics_; }

  FakeSocket* socket(uint16_t port_number) {
    auto it = sockets_.find(port_number);
    return it == sockets_.end() ? nullptr : it->second.get();
  }
  double metric(std::string_view name, const Labels& labels = {}) const {
    return metrics_.value(name, labels);
  }
  FakePort port;

 private:
  FakeWire& wire_;
  std::string name_;
  Ipv4 address_;
  Random random_;
  MemoryStore store_;
  NullLog log_;
  Metrics metrics_;
  std::map<uint16_t, std::unique_ptr<FakeSocket>> sockets_;
};

class FakeWire {
 public:
  Time now() const { return now_; }
  TimerId schedule(Time at, Callback fn) {
    const TimerId id = ++next_id_;
    timers_.emplace(std::make_pair(at, id), std::move(fn));
    return id;
  }
  void cancel(TimerId id) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->first.second == id) {
        timers_.erase(it);
        return;
      }
    }
  }
  void attach(FakeHost& host) { hosts_[host.address().value] = &host; }
  void send(const Endpoint& from, const Endpoint& to, ByteView payload) {
    if (capture) sent.push_back(Datagram{from, to, payload.to_bytes()});
    if (!drop_all) queue_.push_back(Datagram{from, to, payload.to_bytes()});
  }
  void post(Callback fn) { calls_.push_back(std::move(fn)); }
  // Hands a datagram to its socket now (a replay, a forgery).
  void deliver(const Datagram& d) {
    auto h = hosts_.find(d.to.addr.value);
    if (h == hosts_.end()) return;
    if (FakeSocket* s = h->second->socket(d.to.port)) s->deliver(d.from, d.payload);
  }
  // Delivers what is queued, then fires timers up to now + d, repeatedly.
  void run_for(Time d) {
    const Time end = now_ + d;
    for (;;) {
      drain();
      if (timers_.empty() || timers_.begin()->first.first > end) break;
      auto it = timers_.begin();
      now_ = std::max(now_, it->first.first);
      Callback fn = std::move(it->second);
      timers_.erase(it);
      fn();
    }
    now_ = end;
  }
  void drain() {
    while (!queue_.empty() || !calls_.empty()) {
      while (!calls_.empty()) {
        Callback fn = std::move(calls_.front());
        calls_.pop_front();
        fn();
      }
      if (queue_.empty()) continue;
      Datagram d = std::move(queue_.front());
      queue_.pop_front();
      if (filter && !filter(d)) continue;
      deliver(d);
    }
  }

  // Called for each datagram before delivery: false drops it (it may be
  // changed in place).
  std::function<bool(Datagram&)> filter;
  bool capture = false;   // keep a copy of every datagram in `sent`
  bool drop_all = false;  // deliver nothing (benchmarks of the sending side)
  std::vector<Datagram> sent;

 private:
  Time now_{0};
  TimerId next_id_ = 0;
  std::map<std::pair<Time, TimerId>, Callback> timers_;
  std::deque<Datagram> queue_;
  std::deque<Callback> calls_;
  std::map<uint32_t, FakeHost*> hosts_;
};

inline bool FakeSocket::send_to(const Endpoint& to, ByteView payload) {
  wire_.send(local_, to, payload);
  return true;
}
inline Time FakeHost::now() const { return wire_.now(); }
inline TimerId FakeHost::after(Time delay, Callback fn) {
  return wire_.schedule(wire_.now() + std::max(delay, Time(0)), std::move(fn));
}
inline void FakeHost::cancel(TimerId id) { wire_.cancel(id); }
inline Result<DatagramSocket*> FakeHost::udp(uint16_t port_number) {
  auto& s = sockets_[port_number];
  if (!s) s = std::make_unique<FakeSocket>(wire_, Endpoint{address_, port_number});
  return s.get();
}

// Peers A (dials) and B, one connection between them, short IDs 1 and 2.
class FakePair {
 public:
  static inline const PeerName kA{0x0a0000000001ULL};
  static inline const PeerName kB{0x0a0000000002ULL};

  explicit FakePair(DataPlaneConfig config = {},
                    std::optional<crypto::SessionKey> key = std::nullopt,
                    std::optional<crypto::SessionKey> b_key = std::nullopt)
      : a_host_(wire, "a", Ipv4::from_octets(192, 168, 0, 1), 1),
        b_host_(wire, "b", Ipv4::from_octets(192, 168, 0, 2), 2),
        a_topology_(kA, 1, {{kB, 2}}),
        b_topology_(kB, 2, {{kA, 1}}) {
    wire.attach(a_host_);
    wire.attach(b_host_);
    a_ = std::make_unique<DataPlane>(a_host_, config);
    b_ = std::make_unique<DataPlane>(b_host_, config);
    a_->attach(a_topology_);
    b_->attach(b_topology_);
    (void)a_->start();
    (void)b_->start();
    a_conn_ = prepare(*a_, kB, b_host_.address(), a_host_.address(), true, key, &b_conn_);
    b_conn_ = prepare(*b_, kA, a_host_.address(), b_host_.address(), false, b_key ? b_key : key,
                      &a_conn_);
    a_conn_->confirm();
    b_conn_->confirm();
  }
  ~FakePair() {
    a_conn_.reset();
    b_conn_.reset();
  }

  DataPlane& a() { return *a_; }
  DataPlane& b() { return *b_; }
  FakeHost& a_host() { return a_host_; }
  FakeHost& b_host() { return b_host_; }
  bool established() const { return a_established_ && b_established_; }

  FakeWire wire;

 private:
  std::unique_ptr<mesh::OverlayConnection> prepare(DataPlane& plane, PeerName remote,
                                                   Ipv4 remote_ip, Ipv4 local_ip, bool outbound,
                                                   std::optional<crypto::SessionKey> key,
                                                   std::unique_ptr<mesh::OverlayConnection>* peer) {
    mesh::OverlayConnectionParams p;
    p.remote_peer = remote;
    p.local_address = Endpoint{local_ip, 40000};
    p.remote_address = Endpoint{remote_ip, 6783};
    p.outbound = outbound;
    p.connection_uid = 0x1234;
    p.session_key = key;
    // What the remote's handshake would say: both planes share a config.
    p.remote_features["Overlays"] = plane.advertised_overlays().value_or("");
    p.send_control = [this, peer](ByteView m) {
      wire.post([peer, bytes = m.to_bytes()] {
        if (*peer) (*peer)->control_message(bytes);
      });
    };
    mesh::OverlayCallbacks callbacks;
    bool* flag = outbound ? &a_established_ : &b_established_;
    callbacks.established = [flag] { *flag = true; };
    callbacks.failed = [](const Error&) {};
    auto conn = plane.prepare(std::move(p), std::move(callbacks));
    return conn ? std::move(*conn) : nullptr;
  }

  FakeHost a_host_;
  FakeHost b_host_;
  StaticTopology a_topology_;
  StaticTopology b_topology_;
  std::unique_ptr<DataPlane> a_;
  std::unique_ptr<DataPlane> b_;
  std::unique_ptr<mesh::OverlayConnection> a_conn_;
  std::unique_ptr<mesh::OverlayConnection> b_conn_;
  bool a_established_ = false;
  bool b_established_ = false;
};

// An Ethernet broadcast frame of `size` bytes from `src` (a pod's MAC).
inline Bytes broadcast_frame(size_t size, uint8_t src_last = 1, uint8_t fill = 0x5a) {
  Bytes f(size, fill);
  for (int i = 0; i < 6; ++i) f[static_cast<size_t>(i)] = 0xff;
  const uint8_t src[6] = {0x02, 0, 0, 0, 0, src_last};
  for (int i = 0; i < 6; ++i) f[6 + static_cast<size_t>(i)] = src[i];
  f[12] = 0x88;  // a local experimental EtherType: no policy applies
  f[13] = 0xb5;
  return f;
}

}  // namespace loom::dataplane::testing
