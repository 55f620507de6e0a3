// Sleeve's framing (weave:router/sleeve.go, crypto.go; weave-protocol.md 3.4):
//
//   datagram = sender peer name (6) || body
//   body     = frames                         plain
//            = sequence|DF (8) || secretbox(frames)   sealed (model/crypto/sleeve_crypto.h)
//   frames   = { src peer name (6) | dst peer name (6) | length (2, BE) | Ethernet frame }+
//
// src is the peer that captured the frame, dst the peer it is for (on a
// broadcast, the next hop); relays keep both. Special frames start with 14
// zero bytes (an Ethernet header of zero MACs and a zero length field) and
// are told apart by their length: 22 a heartbeat (then the 8-byte
// connection UID), 60001 the fragmentation test, any other an MTU probe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "model/bytes.h"
#include "model/mesh/peer_name.h"
#include "model/result.h"

namespace loom::dataplane {

using mesh::PeerName;

inline constexpr size_t kPeerNameSize = 6;
inline constexpr size_t kSleeveFrameOverhead = 14;  // src, dst, length
inline constexpr size_t kEthernetOverhead = 14;
inline constexpr size_t kSleeveHeartbeatSize = kEthernetOverhead + 8;  // 22
inline constexpr size_t kSleeveFragTestSize = 60001;
inline constexpr size_t kSleevePmtuDiscoverySize = 60000;

void put_peer_name(uint8_t* out, PeerName name);
PeerName get_peer_name(const uint8_t* in);

// Appends one frame (its 14-byte header, then the frame) to a batch.
void append_sleeve_frame(Bytes& batch, PeerName src, PeerName dst, ByteView frame);

struct SleeveFrame {
  PeerName src;
  PeerName dst;
  ByteView frame;  // points into the decoded bytes
};

// Calls each for every frame in order. An error (a truncated header, a
// length running past the end) stops the walk; frames before it were
// delivered, as in Weave.
Result<void> for_each_sleeve_frame(ByteView frames,
                                   const std::function<void(const SleeveFrame&)>& each);

// 14 zero bytes: a frame the remote router made, not one it captured.
bool is_special_frame(ByteView frame);

}  // namespace loom::dataplane
