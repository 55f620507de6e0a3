// The wire level of a mesh TCP connection (mesh:protocol.go,
// mesh:protocol_crypto.go, mesh:connection.go; weave-protocol.md 1.2-1.3).
//
//   header     "weave" min max             7 bytes each way, at once
//   intro      0 | 1 + 32-byte public key  protocol v2's encryption flag
//   messages   4-byte big-endian length + body (at most 10 MiB), each body
//              a secretbox when a password is set; the first is the
//              features map, every later one a tag byte + payload.
//
// Where Weave gob-encodes (the features map, gossip payloads), Loom uses its
// own length-prefixed encodings below, so Loom does not interoperate with
// real Weave peers on TCP 6783 (docs/mesh-protocol.md).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "model/bytes.h"
#include "model/crypto/key_pair.h"
#include "model/host.h"
#include "model/mesh/gossip.h"
#include "model/mesh/peer_name.h"
#include "model/result.h"

namespace loom::mesh {

// Weave's constants. MeshConfig carries them as parameters; these are the
// defaults the wire code itself needs.
inline constexpr std::string_view kProtocolName = "weave";
inline constexpr uint8_t kProtocolMinVersion = 1;  // --min-protocol-version default
inline constexpr uint8_t kProtocolMaxVersion = 2;
inline constexpr size_t kProtocolHeaderSize = 7;
inline constexpr size_t kLengthPrefixSize = 4;
inline constexpr size_t kMaxTcpMessageSize = size_t{10} << 20;  // MaxTCPMsgSize, 10 MiB
inline constexpr std::string_view kPeerNameFlavour = "mac";

// Not the handshake's business, but the connection's (with Host timers):
inline constexpr Time kHandshakeTimeout = std::chrono::seconds(10);  // HeaderTimeout
inline constexpr Time kTcpHeartbeatInterval = std::chrono::seconds(30);
inline constexpr Time kReadTimeout = std::chrono::seconds(60);  // 2 × the heartbeat

// ---- Protocol header ----------------------------------------------------

struct ProtocolHeader {
  uint8_t min_version = kProtocolMinVersion;
  uint8_t max_version = kProtocolMaxVersion;

  std::array<uint8_t, kProtocolHeaderSize> encode() const;
  // Exactly 7 bytes starting "weave"; otherwise Weave's "remote protocol
  // header not recognised: [..]".
  static Result<ProtocolHeader> decode(ByteView bytes);
};

// min(theirMax, ourMax), when max(theirMin, ourMin) <= that; otherwise
// Weave's "remote version range [a,b] is incompatible with ours [c,d]".
Result<uint8_t> negotiate_version(const ProtocolHeader& ours, const ProtocolHeader& theirs);

// ---- Protocol v2 intro: the encryption flag -----------------------------

inline constexpr uint8_t kEncryptionOff = 0;
inline constexpr uint8_t kEncryptionOn = 1;

// {0} or {1, public key...}.
Bytes encode_encryption_intro(const std::optional<crypto::PublicKey>& public_key);

// ---- Length-prefixed framing --------------------------------------------

// The 4-byte big-endian length, then body. Fails (Weave's "outgoing message
// exceeds maximum size") beyond max_size.
Result<Bytes> frame_message(ByteView body, size_t max_size = kMaxTcpMessageSize);

// Splits a byte stream into message bodies, whatever the chunking. A length
// over max_size is an error as soon as its 4 bytes arrive (Weave's
// "incoming message exceeds maximum size: n > max"); the stream is then
// dead and every later call returns the same error.
class FrameReader {
 public:
  explicit FrameReader(size_t max_size = kMaxTcpMessageSize) : max_size_(max_size) {}
  void append(ByteView bytes);
  // The next whole body; nullopt until one is complete.
  Result<std::optional<Bytes>> next();
  // Bytes held that are not yet a whole message.
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Bytes of memory the reader holds (at most 4 KiB once all is read).
  size_t held() const { return buffer_.capacity(); }

 private:
  // Kept between messages. Gossip at a few hundred peers is tens of KB a
  // message; 17,000 connection ends keeping that much held 430 MB.
  static constexpr size_t kKeptCapacity = 4 * 1024;

  size_t max_size_;
  Bytes buffer_;
  size_t consumed_ = 0;
  std::optional<Error> error_;
};

// ---- Features -----------------------------------------------------------

// Weave gob-encodes a map[string]string. Loom's encoding instead:
//   count u16, then per entry in key order: key length u16, key,
//   value length u16, value (all big-endian). Keys strictly ascending
//   (unique), so the encoding is canonical.
using Features = std::map<std::string, std::string, std::less<>>;

Result<Bytes> encode_features(const Features& features);
Result<Features> decode_features(ByteView bytes);

// What a peer says about itself in its features (LocalConnection.makeFeatures).
struct PeerFeatures {
  PeerName name;
  std::string nickname;
  PeerUID uid = 0;
  std::optional<ShortID> short_id;  // absent from older peers
  uint64_t conn_id = 0;
  // Whether the sender trusts the receiver's address (--trusted-subnets).
  bool trusted = false;
  // The sender's overlays in order of preference ("fastdp sleeve"), if sent.
  std::optional<std::string> overlays;
};

Features make_features(const PeerFeatures& peer);
// Checks required keys ("Field X is missing"), the flavour ("Peer name
// flavour mismatch (ours: 'mac', theirs: 'x')") and every value's syntax.
// Each failure is reported with its kind, so the handshake can tell them apart.
enum class FeaturesError { kMissingField, kFlavourMismatch, kBadValue };
struct FeaturesFailure {
  FeaturesError kind;
  std::string message;
};
std::variant<PeerFeatures, FeaturesFailure> parse_features(const Features& features);

// ---- Protocol messages --------------------------------------------------

// The tag byte that starts every message body after the features.
enum class ProtocolTag : uint8_t {
  kHeartbeat = 0,
  kReserved1 = 1,  // sleeve ConnectionEstablished (legacy)
  kReserved2 = 2,  // sleeve FragmentationReceived (legacy)
  kReserved3 = 3,  // sleeve PMTUVerified (legacy)
  kGossip = 4,
  kGossipUnicast = 5,
  kGossipBroadcast = 6,
  kOverlayControlMsg = 7,
};
inline constexpr uint8_t kMaxKnownTag = 7;

std::string_view tag_name(ProtocolTag tag);  // "ProtocolGossip", "unknown"

// One message body, split. Tags beyond 7 pass through: Weave logs and
// ignores them, which is the receiver's choice.
struct ProtocolMessage {
  ProtocolTag tag = ProtocolTag::kHeartbeat;
  Bytes payload;
};

// Gossip payloads. Weave: gob(channel), gob(src), [gob(dst)], gob([]byte).
// Loom: channel length u16 + channel, src (6 bytes), dst (6 bytes, unicast
// only), payload length u32 + payload; nothing may follow.
ProtocolTag gossip_tag(GossipMessage::Kind kind);
Result<Bytes> encode_gossip(const GossipMessage& message);
// tag must be one of the three gossip tags.
Result<GossipMessage> decode_gossip(ProtocolTag tag, ByteView payload);

}  // namespace loom::mesh
