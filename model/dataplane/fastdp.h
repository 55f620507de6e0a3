// fastdp: Weave's fast datapath as VXLAN on UDP 6784 (weave:router/fastdp.go;
// weave-protocol.md 3.5, 4.4).
//
// Frames travel as standard VXLAN (RFC 7348): an 8-byte header (flags I,
// the VNI) then the Ethernet frame, so a Linux vxlan device on port 6784
// reads them. The VNI carries the peers as sleeve's frame header does:
// srcShortID | dstShortID << 12 (or one fixed VNI by configuration). A
// peer without a short ID cannot use fastdp; the overlay switch falls
// through to sleeve for its frames.
//
// Heartbeats are frames of zero MACs, 14 + MTU bytes long, carrying the
// connection UID and their own length, sent like data: a path that cannot
// carry a full-MTU frame never gets them through. The receiver answers the
// first with FastDatapathHeartbeatAck (control tag 0); the ack makes the
// sender established and slows its heartbeats from 500 ms to 10 s. 60 s
// without a heartbeat: a forwarder never established fails; an established
// one goes on hold (unhealthy: traffic moves to sleeve) and comes back with
// the next heartbeat.
//
// Encrypted (the mesh has a password): each direction gets an ESP SA set
// up by its receiver at confirm() (ipsec.h; InitSARemote is control tag 1);
// heartbeats wait for the outbound SA. The VXLAN UDP packet (header
// included, as transport mode protects it) is sealed and sent as ESP in
// UDP to port 4500. Plain VXLAN from a peer we hold an SA with is dropped
// (Weave's iptables rule). Forged, replayed, truncated or wrongly keyed
// packets are dropped and counted by EspReject.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "model/crypto/esp.h"
#include "model/dataplane/forwarder.h"
#include "model/dataplane/heartbeats.h"

namespace loom::dataplane {

// Weave's tunnelIDFor and extractPeers.
constexpr uint32_t vni_for(ShortID src, ShortID dst) {
  return (uint32_t{src} & 0xfff) | ((uint32_t{dst} & 0xfff) << 12);
}
constexpr ShortID vni_src(uint32_t vni) { return static_cast<ShortID>(vni & 0xfff); }
constexpr ShortID vni_dst(uint32_t vni) { return static_cast<ShortID>((vni >> 12) & 0xfff); }

// Control tags of fastdp's forwarder.
inline constexpr uint8_t kFastdpHeartbeatAck = 0;
inline constexpr uint8_t kFastdpInitSaRemote = 1;

class FastdpForwarder;

class FastdpOverlay {
 public:
  explicit FastdpOverlay(OverlayEnv& env) : env_(env) {}
  ~FastdpOverlay();
  FastdpOverlay(const FastdpOverlay&) = delete;
  FastdpOverlay& operator=(const FastdpOverlay&) = delete;

  // Binds the VXLAN port.
  Result<void> start();
  // Fails when the connection is encrypted and the ESP port cannot be bound
  // (bound on first need: an unencrypted mesh leaves it alone).
  Result<std::unique_ptr<Forwarder>> make_forwarder(const ForwarderParams& params,
                                                    ForwarderEvents events);
  size_t forwarder_count() const { return forwarders_.size(); }

  // A VXLAN UDP payload from an address; sealed: it came out of ESP.
  void receive_vxlan(Ipv4 from, ByteView datagram, FastdpForwarder* sealed_by);
  void receive_esp(Ipv4 from, ByteView datagram);

 private:
  friend class FastdpForwarder;
  // From the topology, or from a neighbour's handshake while gossip has
  // not brought it yet.
  std::optional<PeerName> peer_with_short_id(ShortID id) const;
  std::optional<ShortID> short_id(PeerName peer) const;
  void add(FastdpForwarder& fwd);
  void remove(FastdpForwarder& fwd);

  OverlayEnv& env_;
  DatagramSocket* vxlan_socket_ = nullptr;
  DatagramSocket* esp_socket_ = nullptr;
  std::map<PeerName, FastdpForwarder*> forwarders_;        // confirmed, by remote peer
  std::map<uint32_t, FastdpForwarder*> by_ip_;             // by the remote's TCP address
  std::unordered_map<uint32_t, FastdpForwarder*> by_spi_;  // inbound SAs (lookups only)
};

class FastdpForwarder final : public Forwarder {
 public:
  FastdpForwarder(FastdpOverlay& overlay, const ForwarderParams& params, ForwarderEvents events);
  ~FastdpForwarder() override;

  OverlayKind kind() const override { return OverlayKind::kFastdp; }
  void confirm() override;
  void control_message(uint8_t tag, ByteView payload) override;
  void stop() override;
  ForwardResult forward(const ForwardKey& key, ByteView frame, bool broadcast) override;
  size_t mtu() const override { return env().config().fastdp_mtu; }
  bool encrypted() const override { return params_.session_key.has_value(); }

  PeerName remote() const { return params_.remote; }
  std::optional<ShortID> remote_short_id() const { return params_.remote_short_id; }
  Ipv4 remote_ip() const { return params_.remote_address.addr; }
  bool established() const { return established_; }
  bool healthy() const { return healthy_; }

  // From the overlay's receivers.
  void handle_heartbeat(ByteView frame, Ipv4 from);
  crypto::OpenResult<crypto::EspPayload, crypto::EspReject> open(ByteView packet);

 private:
  OverlayEnv& env() const { return overlay_.env_; }
  std::string prefix() const;
  // Encapsulates (and seals) one frame with the VNI and sends it.
  ForwardResult send(uint32_t vni, ByteView frame);
  void send_heartbeat();
  void reset_timeout();
  void heartbeat_timed_out();
  bool ready_to_heartbeat() const;
  void fail(const std::string& reason);

  FastdpOverlay& overlay_;
  ForwarderParams params_;
  ForwarderEvents events_;
  std::optional<Endpoint> remote_addr_;  // where VXLAN goes (ESP: same address, port 4500)
  bool confirmed_ = false;
  bool stopped_ = false;
  bool established_ = false;
  bool healthy_ = true;
  bool acked_heartbeat_ = false;
  Heartbeats heartbeats_;
  TimerId fail_timer_ = 0;
  std::optional<crypto::EspSa> inbound_sa_;
  std::optional<crypto::EspSa> outbound_sa_;
  Bytes scratch_;
};

}  // namespace loom::dataplane
