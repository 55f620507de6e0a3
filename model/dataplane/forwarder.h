// The pieces inside the data plane: one subsidiary forwarder per overlay and
// connection (fastdp, sleeve), and what overlays need from the DataPlane.
// Not for use outside model/dataplane.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "model/crypto/esp.h"
#include "model/crypto/session_key.h"
#include "model/crypto/sleeve_crypto.h"
#include "model/dataplane/data_plane_config.h"
#include "model/dataplane/topology.h"
#include "model/host.h"
#include "model/result.h"

namespace loom::dataplane {

// Why a frame (or datagram) was dropped: loom_dataplane_dropped_frames_total{reason}.
enum class Drop : uint8_t {
  kStp,                // a spanning-tree frame from a pod
  kLocalDestination,   // captured for a MAC that is ours: the bridge delivers it
  kMacConflict,        // captured from a MAC bound to another peer
  kPolicy,             // the FlowVerdict said no
  kNoRoute,            // no route to the destination peer
  kNoConnection,       // a route, but no forwarder to the next hop
  kNoOverlay,          // no overlay of the connection carries it
  kAwaitingContact,    // the remote's UDP address is not known yet
  kTooBig,             // larger than the overlay carries
  kTooBigBroadcast,    // sleeve: a DF broadcast over the MTU
  kUnknownSender,      // a datagram from no connected peer
  kUnknownPeer,        // names or short IDs of no known peer
  kBadFrame,           // not an Ethernet frame
  kBadDatagram,        // bad framing (sleeve frames, VXLAN header, ESP payload)
  kNoSa,               // encrypted fastdp: no outbound SA yet
  kPlaintextFromPeer,  // unencrypted VXLAN from a peer we have an SA with
  kSendFailed,         // the socket refused the datagram
  kCount
};
inline constexpr size_t kDropReasons = static_cast<size_t>(Drop::kCount);
const char* to_string(Drop reason);

// The data plane's counters, looked up once (docs/dataplane.md, "Metrics").
struct DataPlaneCounters {
  Counter* captured = nullptr;
  Counter* injected = nullptr;
  Counter* relayed = nullptr;
  Counter* mac_moves = nullptr;
  Counter* frag_needed = nullptr;
  std::array<Counter*, 2> sent{};      // frames, by overlay (0 fastdp, 1 sleeve)
  std::array<Counter*, 2> received{};  // frames, by overlay
  std::array<Counter*, kDropReasons> dropped{};
  std::array<Counter*, crypto::kEspRejectReasons> esp_rejected{};
  std::array<Counter*, crypto::kSleeveRejectReasons> sleeve_rejected{};
  Gauge* flows = nullptr;  // weave_flows
  Gauge* macs = nullptr;

  void drop(Drop reason) { dropped[static_cast<size_t>(reason)]->add(); }
};

enum class OverlayKind : uint8_t { kFastdp = 0, kSleeve = 1 };
const char* to_string(OverlayKind kind);

// What an overlay needs from the data plane.
class OverlayEnv {
 public:
  virtual ~OverlayEnv() = default;
  virtual Host& host() = 0;
  virtual const DataPlaneConfig& config() const = 0;
  virtual Topology& topology() = 0;
  virtual DataPlaneCounters& counters() = 0;
  // A frame that arrived over an overlay (Weave's handleForwardedPacket).
  virtual void forwarded(PeerName src, PeerName dst, ByteView frame) = 0;
};

// A subsidiary forwarder is prepared from these (Weave's ForwarderParams).
struct ForwarderParams {
  PeerName remote;
  Endpoint local_address;   // our end of the TCP connection
  Endpoint remote_address;  // theirs
  bool outbound = false;
  uint64_t connection_uid = 0;
  std::optional<crypto::SessionKey> session_key;
  // The short ID the remote announced in its handshake: usable before
  // topology gossip brings it (Weave's peers know it from the handshake).
  std::optional<ShortID> remote_short_id;
  // One control message (tag, payload) to the remote's forwarder of this overlay.
  std::function<void(uint8_t tag, ByteView payload)> send_control;
};

// Reports to the overlay switch. Called from the forwarder's own timers and
// receivers, never from inside confirm() or forward().
struct ForwarderEvents {
  std::function<void()> established;         // once
  std::function<void(bool healthy)> health;  // fastdp: on hold (false), back (true)
  std::function<void(const Error&)> failed;  // once; the forwarder is dead
};

// What forward() did with a frame. kNotCarried is Weave's nil FlowOp: the
// overlay switch then tries the next overlay.
enum class ForwardResult : uint8_t { kSent, kDropped, kNotCarried };

// The routing key of a frame on the overlay (Weave's ForwardPacketKey
// without the MACs): the peer that captured it and the peer it is for.
struct ForwardKey {
  PeerName src;
  PeerName dst;
};

class Forwarder {
 public:
  virtual ~Forwarder() = default;
  virtual OverlayKind kind() const = 0;
  virtual void confirm() = 0;
  virtual void control_message(uint8_t tag, ByteView payload) = 0;
  // No event is reported afterwards.
  virtual void stop() = 0;
  // broadcast: the frame goes to every peer (or its destination is unknown).
  virtual ForwardResult forward(const ForwardKey& key, ByteView frame, bool broadcast) = 0;
  // The overlay MTU of this connection (an IP packet's largest size).
  virtual size_t mtu() const = 0;
  virtual bool encrypted() const = 0;
};

}  // namespace loom::dataplane
