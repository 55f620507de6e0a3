// The seam: everything an engine may touch of the outside world.
//
// Every Weave engine (mesh, IPAM, data plane, policy, DNS) is written once
// against Host and runs unchanged on two backends: sim/ (Ns3Host, ns-3's
// virtual clock and sockets) and real-backend/ (LinuxHost, epoll, kernel
// sockets, a TAP device). docs/seam.md explains the contract at length.
//
// The contract, in brief:
//  - Engines are single-threaded and event-driven. The backend calls them
//    (a datagram, stream bytes, a frame, a timer, an accept) and they return.
//    No blocking, no sleeping, no threads, no wall clock, no other randomness.
//  - No callback is ever invoked re-entrantly from inside a Host call: a
//    timer of delay 0, a failed connect, a write on a dead stream all report
//    later, from the backend's loop. An engine may therefore call the Host
//    from anywhere without guarding against recursion.
//  - Byte views passed to callbacks are valid only during the call.
//  - A receiver (on_receive, set_handlers) is not replaced from inside
//    itself: set it once, and dispatch inside the engine if it must change.
//  - The Host outlives every engine on it; an engine's destructor cancels
//    its timers and closes its streams.
//
// This header (and what it includes) must stay valid C++17: the few files of
// sim/ that include ns-3 3.37 headers must be compiled as C++17.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/address.h"
#include "model/bytes.h"
#include "model/log.h"
#include "model/metrics.h"
#include "model/random.h"
#include "model/result.h"

namespace loom {

// Backend time: virtual in ns-3 (starts at 0), monotonic live (starts at 0
// when the LinuxHost's loop is created). Only differences are meaningful.
using Time = std::chrono::nanoseconds;
using Callback = std::function<void()>;

// Identifies a pending timer. 0 is never a valid id, so a TimerId member can
// use 0 for "none".
using TimerId = uint64_t;

// A UDP port bound on the host's underlay address: the data plane's 6783 and
// 6784. Datagrams may be lost, duplicated or reordered, as UDP's are.
class DatagramSocket {
 public:
  using Receiver = std::function<void(const Endpoint& from, ByteView payload)>;

  virtual ~DatagramSocket() = default;
  virtual uint16_t port() const = 0;
  // Hands one datagram to the network. False when it could not be (too large
  // for the transport, no route, local buffer full); true is no promise of
  // delivery.
  virtual bool send_to(const Endpoint& to, ByteView payload) = 0;
  // Replaces the receiver. Datagrams arriving with no receiver are dropped.
  virtual void on_receive(Receiver receiver) = 0;
};

// A reliable, ordered byte stream (TCP live; ns-3's TCP or a message-level
// transport in simulation). Engines frame their own messages on it.
//
// One write() should carry one whole message: a message-level transport
// moves each write() as one transfer. Receivers must still treat the stream
// as bytes (on_data chunks need not match writes), since TCP does not keep
// boundaries.
class Stream {
 public:
  struct Handlers {
    // Bytes in order, in chunks of any size.
    std::function<void(ByteView)> on_data;
    // Called at most once, when the stream ends for any reason other than
    // this side's close(): closed by the peer, reset, timed out. Error says
    // which.
    std::function<void(const Error&)> on_close;
    // Called (from the backend's loop, never re-entrantly) each time
    // pending() falls to 0 after a write() had left bytes queued: the
    // backpressure signal to write more. Not called when a write() went out
    // at once, after close(), or when the stream ends (on_close says so).
    // Optional (may be empty).
    std::function<void()> on_drained = nullptr;
  };

  virtual ~Stream() = default;
  virtual Endpoint local() const = 0;
  virtual Endpoint remote() const = 0;
  // Set from the accept or connect handler. Bytes that arrive before are held
  // and delivered once handlers are set.
  virtual void set_handlers(Handlers handlers) = 0;
  // Queues bytes; never blocks, never fails synchronously. A broken stream
  // reports through on_close. Ignored after close().
  virtual void write(ByteView bytes) = 0;
  // Bytes written but not yet accepted by the transport (the kernel's or
  // ns-3's socket buffer): backpressure. on_drained reports its fall to 0.
  virtual size_t pending() const = 0;
  // Sends what is queued, then closes. No handler is called after this.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

// Dropping the last StreamPtr does not close a stream: call close().
using StreamPtr = std::shared_ptr<Stream>;
using AcceptHandler = std::function<void(StreamPtr)>;
using ConnectHandler = std::function<void(Result<StreamPtr>)>;

// The L2 side of the host: Ethernet frames to and from local pods. Live, a
// TAP device; in ns-3, simulated pods' NICs.
class FramePort {
 public:
  using Receiver = std::function<void(ByteView frame)>;

  virtual ~FramePort() = default;
  // One Ethernet II frame (no FCS) toward the local pods. False when it was
  // not delivered (no port attached, larger than mtu() plus header).
  virtual bool send(ByteView frame) = 0;
  // Frames sent by the local pods.
  virtual void on_receive(Receiver receiver) = 0;
  // Largest IP packet a frame may carry (the L2 MTU).
  virtual size_t mtu() const = 0;
};

// Durable key/value state (IPAM ring and allocations, peer identity). put()
// returning ok means the value survives a crash of the process (live: a file
// written atomically and fsynced; ns-3: memory that outlives a node's
// restart unless the scenario wipes it). Values are arbitrary bytes.
class Store {
 public:
  virtual ~Store() = default;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  virtual Result<void> put(std::string_view key, std::string_view value) = 0;
  virtual Result<void> erase(std::string_view key) = 0;
  // Every key, sorted.
  virtual std::vector<std::string> keys() const = 0;
};

class Host {
 public:
  virtual ~Host() = default;

  // A name for logs and status: the ns-3 node's label, the live hostname.
  virtual std::string_view name() const = 0;

  virtual Time now() const = 0;
  // Runs fn once, delay from now (negative delays count as 0). Never runs fn
  // before returning.
  virtual TimerId after(Time delay, Callback fn) = 0;
  // Cancels a pending timer; a fired, cancelled or unknown id is ignored.
  virtual void cancel(TimerId id) = 0;

  // Seeded per host; the only randomness engines may use.
  virtual Random& random() = 0;

  // This host's underlay address: what peers connect to.
  virtual Ipv4 address() const = 0;

  // The UDP socket bound to port on address() (0: an ephemeral port, new on
  // each call). Owned by the Host; the same port returns the same socket.
  // Fails when the port cannot be bound.
  virtual Result<DatagramSocket*> udp(uint16_t port) = 0;
  // Accepts streams on port. Fails when the port cannot be bound.
  virtual Result<void> listen(uint16_t port, AcceptHandler on_accept) = 0;
  // Opens a stream; on_done reports the stream or why it failed (refused,
  // unreachable, timed out). Always asynchronous.
  virtual void connect(const Endpoint& to, ConnectHandler on_done) = 0;

  virtual FramePort& bridge() = 0;
  virtual Store& store() = 0;
  virtual Log& log() = 0;
  virtual Metrics& metrics() = 0;
};

// A Store in memory: ns-3 hosts and tests.
class MemoryStore final : public Store {
 public:
  std::optional<std::string> get(std::string_view key) const override;
  Result<void> put(std::string_view key, std::string_view value) override;
  Result<void> erase(std::string_view key) override;
  std::vector<std::string> keys() const override;
  void clear() { values_.clear(); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace loom
