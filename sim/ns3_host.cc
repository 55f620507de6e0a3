#include "sim/ns3_host.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include <ns3/inet-socket-address.h>
#include <ns3/ipv4-header.h>
#include <ns3/ipv4-route.h>
#include <ns3/ipv4-routing-protocol.h>
#include <ns3/ipv4.h>
#include <ns3/packet.h>
#include <ns3/simulator.h>
#include <ns3/udp-socket-factory.h>

#include "sim/pod_net_device.h"

namespace loom::sim {

ns3::Ipv4Address to_ns3(Ipv4 address) { return ns3::Ipv4Address(address.value); }
Ipv4 from_ns3(ns3::Ipv4Address address) { return Ipv4(address.Get()); }
ns3::Time to_ns3(Time t) { return ns3::NanoSeconds(t.count()); }
Time from_ns3(ns3::Time t) { return Time(t.GetNanoSeconds()); }

// --- HostLog ---

bool HostLog::enabled(std::string_view component, LogLevel level) const {
  return filter_.enabled(component, level);
}

void HostLog::write(std::string_view component, LogLevel level, std::string_view message) {
  const auto ns = static_cast<uint64_t>(ns3::Simulator::Now().GetNanoSeconds());
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "[%5" PRIu64 ".%06" PRIu64 "s]", ns / 1000000000,
                ns % 1000000000 / 1000);
  std::string line = format_log_line(stamp, host_name_, component, level, message);
  if (sink_) {
    sink_(line);
  } else {
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
}

// --- Ns3DatagramSocket ---

Ns3DatagramSocket::Ns3DatagramSocket(Ns3Host& host, ns3::Ptr<ns3::Socket> socket, uint16_t port)
    : host_(host), socket_(socket), port_(port) {
  socket_->SetRecvCallback(
      ns3::Callback<void, ns3::Ptr<ns3::Socket>>([this](ns3::Ptr<ns3::Socket>) { receive(); }));
}

Ns3DatagramSocket::~Ns3DatagramSocket() {
  socket_->SetRecvCallback(ns3::MakeNullCallback<void, ns3::Ptr<ns3::Socket>>());
  socket_->Close();
}

bool Ns3DatagramSocket::send_to(const Endpoint& to, ByteView payload) {
  // 65535 minus the IPv4 and UDP headers: ns-3 would otherwise build an
  // IPv4 packet whose length field overflows.
  if (payload.size() > 65507) return false;
  // A socket bound to an address sends without a route lookup (and the
  // packet dies in IP); look first, so that "no route" is a false here.
  ns3::Ipv4Header header;
  header.SetSource(to_ns3(host_.address()));
  header.SetDestination(to_ns3(to.addr));
  ns3::Socket::SocketErrno error = ns3::Socket::ERROR_NOTERROR;
  auto routing = host_.node()->GetObject<ns3::Ipv4>()->GetRoutingProtocol();
  if (!routing || !routing->RouteOutput(nullptr, header, nullptr, error)) return false;
  auto packet = ns3::Create<ns3::Packet>(payload.data(), static_cast<uint32_t>(payload.size()));
  return socket_->SendTo(packet, 0, ns3::InetSocketAddress(to_ns3(to.addr), to.port)) >= 0;
}

void Ns3DatagramSocket::receive() {
  ns3::Address from;
  while (ns3::Ptr<ns3::Packet> packet = socket_->RecvFrom(from)) {
    if (!receiver_) continue;                     // no receiver: dropped
    if (host_.udp_port_blocked(port_)) continue;  // World::set_udp_port_blocked
    buffer_.resize(packet->GetSize());
    packet->CopyData(buffer_.data(), static_cast<uint32_t>(buffer_.size()));
    const auto source = ns3::InetSocketAddress::ConvertFrom(from);
    const Endpoint endpoint{from_ns3(source.GetIpv4()), source.GetPort()};
    host_.deliver([&] { receiver_(endpoint, ByteView(buffer_)); });
  }
}

// --- PodBridge ---

PodBridge::~PodBridge() {
  for (auto& pod : pods_) pod->SetBridge(nullptr);
}

void PodBridge::attach(ns3::Ptr<PodNetDevice> device) {
  device->SetBridge(this);
  device->SetMtu(static_cast<uint16_t>(mtu_));
  pods_.push_back(device);
}

void PodBridge::detach(ns3::Ptr<PodNetDevice> device) {
  auto it = std::find(pods_.begin(), pods_.end(), device);
  if (it == pods_.end()) return;
  device->SetBridge(nullptr);
  pods_.erase(it);
}

bool PodBridge::send(ByteView frame) {
  if (frame.size() < PodNetDevice::kEthernetHeader ||
      frame.size() > PodNetDevice::kEthernetHeader + mtu_) {
    return false;
  }
  ns3::Mac48Address dst;
  dst.CopyFrom(frame.data());
  bool delivered = false;
  for (auto& pod : pods_) {
    if (!dst.IsGroup() && pod->mac() != dst) continue;
    // Delivered from the event loop: the pod's stack may answer at once, and
    // its answer must not reach the receiver from inside this call.
    ns3::Simulator::ScheduleWithContext(pod->GetNode()->GetId(), ns3::Seconds(0),
                                        [pod, bytes = frame.to_bytes()] { pod->Receive(bytes); });
    delivered = true;
  }
  return delivered;
}

void PodBridge::from_pod(ByteView frame) {
  if (receiver_) host_.deliver([&] { receiver_(frame); });
}

// --- Ns3Host ---

Ns3Host::Ns3Host(ns3::Ptr<ns3::Node> node, MemoryStore& store, Ns3HostConfig config)
    : node_(node),
      store_(store),
      config_(std::move(config)),
      random_(host_random(config_.seed, config_.index, config_.incarnation)),
      log_(config_.name, *config_.log_filter, *config_.log_sink),
      bridge_(*this, config_.pod_mtu),
      streams_(make_stream_transport(config_.streams, *this)) {}

Ns3Host::~Ns3Host() {
  // Sockets and the transport go first (members in reverse order); the
  // pending timers must not fire into a dead host.
  for (auto& [id, timer] : timers_) ns3::Simulator::Cancel(timer.event);
}

void Ns3Host::crash() { streams_->crash(); }

Random host_random(uint64_t seed, uint64_t index, uint64_t incarnation) {
  return Random::stream(seed, index + (incarnation << 40));
}

Time Ns3Host::now() const { return from_ns3(ns3::Simulator::Now()); }

TimerId Ns3Host::after(Time delay, Callback fn) {
  if (delay < Time::zero()) delay = Time::zero();
  const TimerId id = ++next_timer_;
  ns3::EventId event = ns3::Simulator::Schedule(to_ns3(delay), [this, id] { fire(id); });
  timers_.emplace(id, Timer{event, std::move(fn)});
  return id;
}

void Ns3Host::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  ns3::Simulator::Cancel(it->second.event);
  timers_.erase(it);
}

void Ns3Host::fire(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  Callback fn = std::move(it->second.fn);
  timers_.erase(it);
  deliver(fn);
}

void Ns3Host::later(std::function<void()> fn) {
  // A timer of delay 0: cancelled with the host, like the engine's own.
  after(Time::zero(), std::move(fn));
}

void Ns3Host::set_udp_port_blocked(uint16_t port, bool blocked) {
  if (blocked) {
    blocked_udp_.insert(port);
  } else {
    blocked_udp_.erase(port);
  }
}

Result<DatagramSocket*> Ns3Host::udp(uint16_t port) {
  if (port != 0) {
    if (auto it = udp_.find(port); it != udp_.end()) return it->second.get();
  }
  auto socket = ns3::Socket::CreateSocket(node_, ns3::UdpSocketFactory::GetTypeId());
  if (socket->Bind(ns3::InetSocketAddress(to_ns3(address_), port)) != 0) {
    socket->Close();
    return make_error("cannot bind UDP port " + std::to_string(port) + " on " +
                      address_.to_string() + ": in use");
  }
  ns3::Address bound;
  socket->GetSockName(bound);
  const uint16_t actual = ns3::InetSocketAddress::ConvertFrom(bound).GetPort();
  auto& slot = udp_[actual];
  slot = std::make_unique<Ns3DatagramSocket>(*this, socket, actual);
  return slot.get();
}

Result<void> Ns3Host::listen(uint16_t port, AcceptHandler on_accept) {
  return streams_->listen(port, std::move(on_accept));
}

void Ns3Host::connect(const Endpoint& to, ConnectHandler on_done) {
  streams_->connect(to, std::move(on_done));
}

}  // namespace loom::sim
