// Sleeve's UDP encryption: NaCl secretbox under the mesh session key, with
// Weave's UDP nonces and its 2^20 replay window (weave:router/crypto.go
// NaClEncryptor, NaClDecryptor; weave-protocol.md 3.4 and 4.3).
//
// A sealed sleeve datagram on UDP 6783 is
//
//   sender peer name (6)            clear; the data plane's framing, not ours
//   sequence | DF << 63 (8, BE)     clear
//   secretbox(frames)               16-byte tag, then the batched frames
//
// and its 24-byte nonce is
//
//   byte 0, bit 7:  the sender's polarity (1 if the sender dialled out)
//   byte 0, bit 6:  0, "UDP" (TCP nonces set it: session_key.h's key seals
//                   both, and the two must never share a nonce)
//   bytes 16-23:    the same 8 bytes as the clear header
//   all else zero.
//
// Each forwarder seals with two encryptors, one for frames sent with DF and
// one without, each counting from 0; the DF bit in the clear header tells
// the receiver which of its two decryptors (two windows) a datagram is for.
// It travels in the header, not the outer IP flags, because routers may
// rewrite those.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/bytes.h"
#include "model/crypto/open_result.h"
#include "model/crypto/secretbox.h"
#include "model/crypto/session_key.h"
#include "model/crypto/sleeve_window.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kSleeveSequenceSize = 8;
inline constexpr uint64_t kSleeveDfFlag = uint64_t{1} << 63;
// What sealing adds after the sender name: the clear sequence and the tag.
inline constexpr size_t kSleeveSealOverhead = kSleeveSequenceSize + kSecretboxOverhead;  // 24

// The MTU arithmetic of weave-protocol.md 3.4 (Weave's overheadDF), here so
// the data plane and the tests use one set of numbers.
inline constexpr size_t kSleeveUnderlayHeaders = 28;  // IPv4 (20) + UDP (8)
inline constexpr size_t kSleeveSenderNameSize = 6;
inline constexpr size_t kSleeveFrameHeaderSize = 14;  // src name (6), dst name (6), length (2)
inline constexpr size_t kSleeveInnerEthernetSize = 14;

// Weave's packetOverhead: 6 plain, 30 sealed.
constexpr size_t sleeve_packet_overhead(bool encrypted) {
  return kSleeveSenderNameSize + (encrypted ? kSleeveSealOverhead : 0);
}
// Weave's overheadDF, from an underlay IP packet to an overlay IP packet:
// 62 plain, 86 sealed.
constexpr size_t sleeve_overhead(bool encrypted) {
  return kSleeveUnderlayHeaders + sleeve_packet_overhead(encrypted) + kSleeveFrameHeaderSize +
         kSleeveInnerEthernetSize;
}
// The overlay MTU over an underlay of `underlay_mtu`: 1438 plain and 1414
// sealed on 1500, the figures Weave's status shows.
constexpr size_t sleeve_overlay_mtu(size_t underlay_mtu, bool encrypted) {
  return underlay_mtu > sleeve_overhead(encrypted) ? underlay_mtu - sleeve_overhead(encrypted) : 0;
}

// The nonce of a datagram whose clear header is `sequence_and_df`, sent by
// a peer of polarity `sender_outbound`.
Nonce udp_nonce(bool sender_outbound, uint64_t sequence_and_df);

// One of a forwarder's two encryptors (DF or not).
class SleeveEncryptor {
 public:
  // outbound: whether we dialled this connection.
  SleeveEncryptor(const SessionKey& key, bool outbound, bool df)
      : key_(key), outbound_(outbound), df_(df) {}

  // sequence | DF (8 bytes) || secretbox(frames); the sender name goes in
  // front of it. Fails only when 2^63 datagrams have been sealed.
  Result<Bytes> seal(ByteView frames);
  uint64_t next_sequence() const { return sequence_; }
  bool df() const { return df_; }

 private:
  SessionKey key_;
  bool outbound_;
  bool df_;
  uint64_t sequence_ = 0;
};

// Why a sealed sleeve datagram was refused. Weave drops duplicates and
// too-old datagrams silently and logs the rest; the data plane counts all.
enum class SleeveReject : uint8_t {
  kTruncated,   // shorter than the sequence and the tag
  kAuthFailed,  // does not open: forged, corrupted, or the wrong key
  kDuplicate,   // authenticated, but its number was seen already
  kTooOld,      // authenticated, but more than a window behind
};
inline constexpr size_t kSleeveRejectReasons = 4;
// Stable names, fit for a metric label.
const char* to_string(SleeveReject reason);

struct SleevePayload {
  Bytes frames;
  bool df = false;
  uint64_t sequence = 0;
};

// A forwarder's receiving side: both windows (DF and not).
class SleeveDecryptor {
 public:
  // outbound: whether *we* dialled this connection (the sender's polarity
  // is the opposite), as for SecretboxReceiver.
  SleeveDecryptor(const SessionKey& key, bool outbound) : key_(key), sender_outbound_(!outbound) {}

  // `sealed` is the datagram after the sender name. Authenticates first and
  // only then consults and moves the window (Weave's order).
  OpenResult<SleevePayload, SleeveReject> open(ByteView sealed);

  const SleeveWindow& window(bool df) const { return df ? window_df_ : window_; }

 private:
  SessionKey key_;
  bool sender_outbound_;
  SleeveWindow window_;
  SleeveWindow window_df_;
};

}  // namespace loom::crypto
