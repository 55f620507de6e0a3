// Ns3Host: loom::Host over an ns-3 node (C++17; ns-3 types allowed here).
//
// The clock is ns-3's virtual clock, timers are Simulator events, UDP is
// ns-3's UdpSocket, streams come from a StreamTransport (ns-3's TCP or whole messages),
// and bridge() reaches the host's pods (PodNetDevice). docs/backend-sim.md
// explains the mapping; World (world.cc) builds and owns these.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ns3/event-id.h>
#include <ns3/ipv4-address.h>
#include <ns3/node.h>
#include <ns3/nstime.h>
#include <ns3/ptr.h>
#include <ns3/socket.h>

#include "model/host.h"
#include "sim/pod_net_device.h"
#include "sim/stream_transport.h"
#include "sim/world.h"

namespace loom::sim {

class Ns3Host;
class MessageNetwork;

// Log lines "[   12.345678s] host1 mesh info: message", filtered.
class HostLog final : public Log {
 public:
  HostLog(std::string host_name, const LogFilter& filter, const LogSink& sink)
      : host_name_(std::move(host_name)), filter_(filter), sink_(sink) {}
  bool enabled(std::string_view component, LogLevel level) const override;
  void write(std::string_view component, LogLevel level, std::string_view message) override;

 private:
  std::string host_name_;
  const LogFilter& filter_;
  const LogSink& sink_;
};

// A UDP port bound on the host's underlay address.
class Ns3DatagramSocket final : public DatagramSocket {
 public:
  Ns3DatagramSocket(Ns3Host& host, ns3::Ptr<ns3::Socket> socket, uint16_t port);
  ~Ns3DatagramSocket() override;
  uint16_t port() const override { return port_; }
  bool send_to(const Endpoint& to, ByteView payload) override;
  void on_receive(Receiver receiver) override { receiver_ = std::move(receiver); }

 private:
  void receive();

  Ns3Host& host_;
  ns3::Ptr<ns3::Socket> socket_;
  uint16_t port_;
  Receiver receiver_;
  Bytes buffer_;
};

// The host's side of its pods: frames in from PodNetDevices, frames out to
// them by destination MAC.
class PodBridge final : public FramePort {
 public:
  PodBridge(Ns3Host& host, size_t mtu) : host_(host), mtu_(mtu) {}
  ~PodBridge() override;
  bool send(ByteView frame) override;
  void on_receive(Receiver receiver) override { receiver_ = std::move(receiver); }
  size_t mtu() const override { return mtu_; }

  void attach(ns3::Ptr<PodNetDevice> device);
  void detach(ns3::Ptr<PodNetDevice> device);
  // A frame a pod sent.
  void from_pod(ByteView frame);

 private:
  Ns3Host& host_;
  size_t mtu_;
  Receiver receiver_;
  std::vector<ns3::Ptr<PodNetDevice>> pods_;
};

struct Ns3HostConfig {
  std::string name;
  uint64_t index = 0;  // the host's index in its World: its Random stream
  uint64_t seed = 1;
  // How many times the host has been restarted (World::start_host): each
  // incarnation draws from its own Random stream (host_random()).
  uint64_t incarnation = 0;
  const LogFilter* log_filter = nullptr;
  const LogSink* log_sink = nullptr;
  size_t pod_mtu = 1376;
  StreamFidelity streams = StreamFidelity::tcp;
  // The World's underlay for StreamFidelity::message (null otherwise).
  MessageNetwork* messages = nullptr;
  // Called after every callback into engine code returns (World uses it for
  // run_until(done, limit)).
  std::function<void()> after_callback;
};

class Ns3Host final : public Host {
 public:
  // store belongs to the World's record of the node, so that a restart can
  // keep or wipe it.
  Ns3Host(ns3::Ptr<ns3::Node> node, MemoryStore& store, Ns3HostConfig config);
  ~Ns3Host() override;
  Ns3Host(const Ns3Host&) = delete;
  Ns3Host& operator=(const Ns3Host&) = delete;

  std::string_view name() const override { return config_.name; }
  Time now() const override;
  TimerId after(Time delay, Callback fn) override;
  void cancel(TimerId id) override;
  Random& random() override { return random_; }
  Ipv4 address() const override { return address_; }
  Result<DatagramSocket*> udp(uint16_t port) override;
  Result<void> listen(uint16_t port, AcceptHandler on_accept) override;
  void connect(const Endpoint& to, ConnectHandler on_done) override;
  FramePort& bridge() override { return bridge_; }
  Store& store() override { return store_; }
  Log& log() override { return log_; }
  Metrics& metrics() override { return metrics_; }

  // Backend side, for World and the transports.
  void set_address(Ipv4 address) { address_ = address; }
  ns3::Ptr<ns3::Node> node() const { return node_; }
  size_t index() const { return config_.index; }
  MessageNetwork* message_network() const { return config_.messages; }
  PodBridge& pods() { return bridge_; }
  // World::set_udp_port_blocked: datagrams arriving for a blocked port are dropped.
  void set_udp_port_blocked(uint16_t port, bool blocked);
  bool udp_port_blocked(uint16_t port) const { return blocked_udp_.count(port) != 0; }
  // Calls engine code (a handler, a receiver) and tells the World it ran.
  template <typename F>
  void deliver(F&& f) {
    std::forward<F>(f)();
    if (config_.after_callback) config_.after_callback();
  }
  // Runs fn from the event loop, after the current event: how a Host call
  // reports "later" without re-entering the engine.
  void later(std::function<void()> fn);
  // The host's process dies (World::stop_host, after its engines are gone):
  // its connections are reset, its listeners and pending connects closed.
  // The host is destroyed next; its destructor closes the UDP sockets and
  // cancels the timers.
  void crash();

 private:
  struct Timer {
    ns3::EventId event;
    Callback fn;
  };
  void fire(TimerId id);

  ns3::Ptr<ns3::Node> node_;
  MemoryStore& store_;
  Ns3HostConfig config_;
  Random random_;
  Ipv4 address_;
  HostLog log_;
  Metrics metrics_;
  PodBridge bridge_;
  TimerId next_timer_ = 0;
  std::unordered_map<TimerId, Timer> timers_;  // never iterated for behaviour
  std::map<uint16_t, std::unique_ptr<Ns3DatagramSocket>> udp_;
  std::set<uint16_t> blocked_udp_;
  std::unique_ptr<StreamTransport> streams_;
};

// The Random of a host's incarnation: Random::stream(seed, index) for the
// first (so a host that never restarts draws what it always did), then
// stream index + incarnation * 2^40.
Random host_random(uint64_t seed, uint64_t index, uint64_t incarnation);

// loom <-> ns-3 conversions.
ns3::Ipv4Address to_ns3(Ipv4 address);
Ipv4 from_ns3(ns3::Ipv4Address address);
ns3::Time to_ns3(Time t);
Time from_ns3(ns3::Time t);

}  // namespace loom::sim
