#include "model/dataplane/fastdp.h"

#include <algorithm>
#include <string>

#include "model/crypto/ipsec.h"
#include "model/dataplane/sleeve_frames.h"
#include "model/wire/byte_order.h"
#include "model/wire/udp.h"
#include "model/wire/vxlan.h"

namespace loom::dataplane {
namespace {

constexpr size_t kVxlanHeader = wire::VxlanPacket::kHeaderSize;
constexpr size_t kUdpHeader = wire::UdpDatagram::kHeaderSize;
constexpr size_t kHeartbeatPayload = 10;  // connection UID (8), frame length (2)

bool zero_macs(ByteView frame) {
  for (size_t i = 0; i < 12; ++i) {
    if (frame[i] != 0) return false;
  }
  return true;
}

}  // namespace

// ---- FastdpOverlay ----------------------------------------------------------

FastdpOverlay::~FastdpOverlay() {
  // The Host keeps its sockets; they must not call into a dead overlay.
  if (vxlan_socket_ != nullptr) vxlan_socket_->on_receive(nullptr);
  if (esp_socket_ != nullptr) esp_socket_->on_receive(nullptr);
}

Result<void> FastdpOverlay::start() {
  auto vxlan = env_.host().udp(env_.config().vxlan_port);
  if (!vxlan) return vxlan.error();
  vxlan_socket_ = *vxlan;
  vxlan_socket_->on_receive([this](const Endpoint& from, ByteView datagram) {
    receive_vxlan(from.addr, datagram, nullptr);
  });
  return {};
}

Result<std::unique_ptr<Forwarder>> FastdpOverlay::make_forwarder(const ForwarderParams& params,
                                                                 ForwarderEvents events) {
  if (params.session_key && esp_socket_ == nullptr) {
    auto esp = env_.host().udp(env_.config().esp_port);
    if (!esp) return esp.error();
    esp_socket_ = *esp;
    esp_socket_->on_receive(
        [this](const Endpoint& from, ByteView datagram) { receive_esp(from.addr, datagram); });
  }
  return std::unique_ptr<Forwarder>(
      std::make_unique<FastdpForwarder>(*this, params, std::move(events)));
}

std::optional<PeerName> FastdpOverlay::peer_with_short_id(ShortID id) const {
  if (auto p = env_.topology().peer_with_short_id(id)) return p;
  for (const auto& [peer, fwd] : forwarders_) {
    if (fwd->remote_short_id() == id && !env_.topology().short_id(peer)) return peer;
  }
  return std::nullopt;
}

std::optional<ShortID> FastdpOverlay::short_id(PeerName peer) const {
  if (auto id = env_.topology().short_id(peer)) return id;
  auto it = forwarders_.find(peer);
  if (it != forwarders_.end()) return it->second->remote_short_id();
  return std::nullopt;
}

void FastdpOverlay::add(FastdpForwarder& fwd) {
  // Mesh allows one added connection per peer; the newest confirmed wins.
  forwarders_[fwd.remote()] = &fwd;
  by_ip_[fwd.remote_ip().value] = &fwd;
}

void FastdpOverlay::remove(FastdpForwarder& fwd) {
  if (auto it = forwarders_.find(fwd.remote()); it != forwarders_.end() && it->second == &fwd) {
    forwarders_.erase(it);
  }
  if (auto it = by_ip_.find(fwd.remote_ip().value); it != by_ip_.end() && it->second == &fwd) {
    by_ip_.erase(it);
  }
  std::erase_if(by_spi_, [&](const auto& kv) { return kv.second == &fwd; });
}

void FastdpOverlay::receive_esp(Ipv4 from, ByteView datagram) {
  DataPlaneCounters& c = env_.counters();
  if (crypto::classify_esp_udp(datagram) != crypto::EspUdpKind::kEsp) {
    c.esp_rejected[static_cast<size_t>(datagram.size() < 4 ? crypto::EspReject::kTruncated
                                                           : crypto::EspReject::kNotEsp)]
        ->add();
    return;
  }
  const auto spi = crypto::esp_spi(datagram);
  auto it = spi ? by_spi_.find(*spi) : by_spi_.end();
  if (it == by_spi_.end()) {
    c.esp_rejected[static_cast<size_t>(crypto::EspReject::kWrongSpi)]->add();
    return;
  }
  FastdpForwarder& fwd = *it->second;
  auto opened = fwd.open(datagram);
  if (!opened) {
    c.esp_rejected[static_cast<size_t>(opened.reason())]->add();
    LOOM_LOG(env_.host().log(), "dataplane", debug,
             "fastdp: dropped ESP packet from " << from.to_string() << ": "
                                                << crypto::to_string(opened.reason()));
    return;
  }
  // Transport mode over VXLAN's UDP: the UDP header, then VXLAN.
  const ByteView udp = opened->data;
  if (opened->next_header != crypto::kEspNextHeaderUdp || udp.size() < kUdpHeader ||
      wire::load_be16(udp.data() + 2) != env_.config().vxlan_port ||
      wire::load_be16(udp.data() + 4) != udp.size()) {
    c.drop(Drop::kBadDatagram);
    return;
  }
  receive_vxlan(from, udp.subview(kUdpHeader), &fwd);
}

void FastdpOverlay::receive_vxlan(Ipv4 from, ByteView datagram, FastdpForwarder* sealed_by) {
  DataPlaneCounters& c = env_.counters();
  auto vxlan = wire::VxlanPacket::decode(datagram);
  // Linux's vxlan driver drops flags it does not know; so does the datapath.
  if (!vxlan || vxlan->has_reserved_bits()) {
    c.drop(Drop::kBadDatagram);
    return;
  }
  if (sealed_by == nullptr) {
    // Weave's WEAVE-IPSEC-IN: no plain VXLAN from a peer that has an SA.
    auto it = by_ip_.find(from.value);
    if (it != by_ip_.end() && it->second->encrypted()) {
      c.drop(Drop::kPlaintextFromPeer);
      return;
    }
  }
  const ByteView frame = vxlan->payload;
  if (frame.size() < kEthernetOverhead) {
    c.drop(Drop::kBadFrame);
    return;
  }
  Topology& topology = env_.topology();
  PeerName src;
  PeerName dst;
  if (const auto& fixed = env_.config().fixed_vni) {
    auto it = by_ip_.find(from.value);
    if (vxlan->vni != *fixed || it == by_ip_.end()) {
      c.drop(Drop::kUnknownSender);
      return;
    }
    src = it->second->remote();
    dst = topology.ourselves();
  } else {
    auto s = peer_with_short_id(vni_src(vxlan->vni));
    auto d = peer_with_short_id(vni_dst(vxlan->vni));
    if (!s || !d) {
      c.drop(Drop::kUnknownPeer);
      return;
    }
    src = *s;
    dst = *d;
  }
  if (zero_macs(frame)) {  // a heartbeat
    if (dst != topology.ourselves()) return;
    auto it = forwarders_.find(src);
    if (it != forwarders_.end()) it->second->handle_heartbeat(frame, from);
    return;
  }
  c.received[static_cast<size_t>(OverlayKind::kFastdp)]->add();
  env_.forwarded(src, dst, frame);
}

// ---- FastdpForwarder --------------------------------------------------------

FastdpForwarder::FastdpForwarder(FastdpOverlay& overlay, const ForwarderParams& params,
                                 ForwarderEvents events)
    : overlay_(overlay),
      params_(params),
      events_(std::move(events)),
      heartbeats_(
          overlay.env_.host(), [this] { send_heartbeat(); }, [this] { heartbeat_timed_out(); }) {
  heartbeats_.set_interval(env().config().fast_heartbeat);
  // The outbound side knows where to send: the TCP remote's IP, VXLAN port.
  // The inbound side learns it from the first heartbeat.
  if (params_.outbound) remote_addr_ = Endpoint{remote_ip(), env().config().vxlan_port};
}

FastdpForwarder::~FastdpForwarder() {
  stop();
  env().host().cancel(fail_timer_);
}

std::string FastdpForwarder::prefix() const {
  return "fastdp ->[" + (remote_addr_ ? remote_addr_->to_string() : std::string("<nil>")) + "|" +
         params_.remote.to_string() + "]: ";
}

void FastdpForwarder::confirm() {
  if (confirmed_ || stopped_) return;
  confirmed_ = true;
  overlay_.add(*this);
  LOOM_LOG(env().host().log(), "dataplane", debug, prefix() << "confirmed");
  if (encrypted()) {
    // InitSALocal: our inbound SA, and the message for the remote's outbound one.
    auto setup = crypto::init_sa_local(
        *params_.session_key, env().topology().ourselves().value, env().config().esp_cipher,
        env().host().random(), [this](uint32_t spi) { return overlay_.by_spi_.count(spi) != 0; });
    auto sa = setup ? crypto::EspSa::create(setup->config) : Result<crypto::EspSa>(setup.error());
    if (!sa) {
      // Reported from a timer: never from inside confirm().
      fail("IPsec setup failed: " + sa.error().message);
      return;
    }
    inbound_sa_.emplace(std::move(*sa));
    overlay_.by_spi_[inbound_sa_->spi()] = this;
    params_.send_control(kFastdpInitSaRemote, setup->message.encode());
  }
  if (ready_to_heartbeat()) heartbeats_.start(Time(0));
  reset_timeout();
}

bool FastdpForwarder::ready_to_heartbeat() const {
  return confirmed_ && !stopped_ && remote_addr_ && (!encrypted() || outbound_sa_);
}

void FastdpForwarder::fail(const std::string& reason) {
  if (fail_timer_ != 0 || stopped_) return;
  fail_timer_ = env().host().after(Time(0), [this, reason] {
    fail_timer_ = 0;
    if (stopped_) return;
    LOOM_LOG(env().host().log(), "dataplane", info, prefix() << reason);
    stop();
    if (events_.failed) events_.failed(make_error(reason));
  });
}

void FastdpForwarder::stop() {
  if (stopped_) return;
  stopped_ = true;
  overlay_.remove(*this);
  heartbeats_.stop();
  // fail_timer_ stays: its callback sees stopped_; the destructor cancels it.
}

void FastdpForwarder::reset_timeout() {
  heartbeats_.reset_timeout(env().config().heartbeat_timeout());
}

void FastdpForwarder::heartbeat_timed_out() {
  if (!established_) {
    fail("timed out waiting for vxlan heartbeat");
    return;
  }
  // Weave 2.5+: an established fastdp that misses its heartbeats is put on
  // hold, so that the connection moves to sleeve, and comes back when they
  // resume (weave-protocol.md 3.3).
  if (healthy_) {
    healthy_ = false;
    LOOM_LOG(env().host().log(), "dataplane", info,
             prefix() << "timed out waiting for vxlan heartbeat; unhealthy");
    if (events_.health) events_.health(false);
  }
  reset_timeout();
}

void FastdpForwarder::send_heartbeat() {
  if (!ready_to_heartbeat()) return;
  const size_t size = kEthernetOverhead + mtu();
  Bytes frame(size, 0);
  wire::store_be32(frame.data() + kEthernetOverhead,
                   static_cast<uint32_t>(params_.connection_uid >> 32));
  wire::store_be32(frame.data() + kEthernetOverhead + 4,
                   static_cast<uint32_t>(params_.connection_uid));
  wire::store_be16(frame.data() + kEthernetOverhead + 8, static_cast<uint16_t>(size));
  Topology& topology = env().topology();
  uint32_t vni = 0;
  if (const auto& fixed = env().config().fixed_vni) {
    vni = *fixed;
  } else {
    auto src = topology.short_id(topology.ourselves());
    auto dst = overlay_.short_id(params_.remote);
    if (!src || !dst) return;  // nothing fastdp can send
    vni = vni_for(*src, *dst);
  }
  send(vni, frame);
}

void FastdpForwarder::handle_heartbeat(ByteView frame, Ipv4 from) {
  if (stopped_) return;
  if (frame.size() < kEthernetOverhead + kHeartbeatPayload) {
    LOOM_LOG(env().host().log(), "dataplane", warn,
             prefix() << "short vxlan special packet: " << frame.size() << " bytes");
    return;
  }
  const uint8_t* p = frame.data() + kEthernetOverhead;
  const uint64_t uid = (uint64_t{wire::load_be32(p)} << 32) | wire::load_be32(p + 4);
  if (uid != params_.connection_uid || wire::load_be16(p + 8) != frame.size()) return;
  const Endpoint sender{from, env().config().vxlan_port};
  if (!remote_addr_) {
    remote_addr_ = sender;
    if (ready_to_heartbeat()) heartbeats_.start(Time(0));
  } else if (*remote_addr_ != sender) {
    LOOM_LOG(env().host().log(), "dataplane", info,
             prefix() << "Peer IP address changed to " << sender.to_string());
    remote_addr_ = sender;
  }
  if (!acked_heartbeat_) {
    acked_heartbeat_ = true;
    params_.send_control(kFastdpHeartbeatAck, ByteView());
  }
  if (confirmed_) reset_timeout();
  if (!healthy_) {
    healthy_ = true;
    LOOM_LOG(env().host().log(), "dataplane", info,
             prefix() << "vxlan heartbeats resumed; healthy");
    if (events_.health) events_.health(true);
  }
}

void FastdpForwarder::control_message(uint8_t tag, ByteView payload) {
  if (stopped_) return;
  switch (tag) {
    case kFastdpHeartbeatAck:
      if (heartbeats_.set_interval(env().config().slow_heartbeat)) {
        established_ = true;
        if (events_.established) events_.established();
      }
      return;
    case kFastdpInitSaRemote: {
      if (!encrypted()) {
        LOOM_LOG(env().host().log(), "dataplane", info,
                 prefix() << "ignoring InitSARemote on an unencrypted connection");
        return;
      }
      if (outbound_sa_) return;  // keys live as long as the connection
      auto config = crypto::init_sa_remote(*params_.session_key, params_.remote.value, payload,
                                           env().config().esp_cipher);
      auto sa = config ? crypto::EspSa::create(*config) : Result<crypto::EspSa>(config.error());
      if (!sa) {
        fail("IPsec setup failed: " + sa.error().message);
        return;
      }
      outbound_sa_.emplace(std::move(*sa));
      // Heartbeats were waiting for the outbound SA.
      if (ready_to_heartbeat() && !heartbeats_.sending()) heartbeats_.start(Time(0));
      return;
    }
    default:
      LOOM_LOG(env().host().log(), "dataplane", info,
               prefix() << "Ignoring unknown control message: " << int(tag));
      return;
  }
}

ForwardResult FastdpForwarder::forward(const ForwardKey& key, ByteView frame, bool) {
  if (stopped_) return ForwardResult::kNotCarried;
  uint32_t vni = 0;
  if (const auto& fixed = env().config().fixed_vni) {
    vni = *fixed;
  } else {
    auto src = overlay_.short_id(key.src);
    auto dst = overlay_.short_id(key.dst);
    if (!src || !dst) return ForwardResult::kNotCarried;  // Weave's nil FlowOp
    vni = vni_for(*src, *dst);
  }
  DataPlaneCounters& c = env().counters();
  if (!remote_addr_) {
    c.drop(Drop::kAwaitingContact);
    return ForwardResult::kDropped;
  }
  if (frame.size() > kEthernetOverhead + mtu()) {
    c.drop(Drop::kTooBig);
    return ForwardResult::kDropped;
  }
  const ForwardResult r = send(vni, frame);
  if (r == ForwardResult::kSent) c.sent[static_cast<size_t>(OverlayKind::kFastdp)]->add();
  return r;
}

ForwardResult FastdpForwarder::send(uint32_t vni, ByteView frame) {
  DataPlaneCounters& c = env().counters();
  const DataPlaneConfig& config = env().config();
  // Room for the UDP header in front, which ESP's transport mode seals.
  scratch_.resize(kUdpHeader + kVxlanHeader + frame.size());
  uint8_t* udp = scratch_.data();
  wire::VxlanPacket header;
  header.vni = vni;
  header.payload = frame;
  auto written = header.encode(std::span<uint8_t>(udp + kUdpHeader, kVxlanHeader + frame.size()));
  if (!written) {
    c.drop(Drop::kBadFrame);
    return ForwardResult::kDropped;
  }
  bool sent = false;
  if (encrypted()) {
    if (!outbound_sa_) {
      c.drop(Drop::kNoSa);
      return ForwardResult::kDropped;
    }
    // The UDP header as the kernel would have built it: no checksum (Weave's tunnels).
    wire::store_be16(udp, config.vxlan_port);
    wire::store_be16(udp + 2, config.vxlan_port);
    wire::store_be16(udp + 4, static_cast<uint16_t>(scratch_.size()));
    wire::store_be16(udp + 6, 0);
    auto packet = outbound_sa_->seal(scratch_, crypto::kEspNextHeaderUdp);
    if (!packet) {
      fail("ESP: " + packet.error().message);
      return ForwardResult::kDropped;
    }
    sent = overlay_.esp_socket_ != nullptr &&
           overlay_.esp_socket_->send_to(Endpoint{remote_addr_->addr, config.esp_port}, *packet);
  } else {
    sent = overlay_.vxlan_socket_->send_to(*remote_addr_, ByteView(udp + kUdpHeader, *written));
  }
  if (!sent) {
    c.drop(Drop::kSendFailed);
    return ForwardResult::kDropped;
  }
  return ForwardResult::kSent;
}

crypto::OpenResult<crypto::EspPayload, crypto::EspReject> FastdpForwarder::open(ByteView packet) {
  if (!inbound_sa_) return crypto::EspReject::kWrongSpi;
  return inbound_sa_->open(packet);
}

}  // namespace loom::dataplane
