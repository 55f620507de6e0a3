// ICMP destination unreachable (RFC 792, type 3), with the next-hop MTU of
// "fragmentation needed" (code 4, RFC 1191): what Weave's sleeve sends back
// to a pod whose DF packet does not fit the overlay MTU.
//
//   type 3 | code | checksum | unused (16) | next-hop MTU (16) | original IP header + 8 bytes
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire {

inline constexpr uint8_t kIcmpDestUnreachable = 3;
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;

struct IcmpDestUnreachable {
  static constexpr size_t kHeaderSize = 8;

  uint8_t code = kIcmpCodeFragNeeded;
  uint16_t next_hop_mtu = 0;  // meaningful for code 4; 0 otherwise
  // As received (already verified). encode() computes its own.
  uint16_t checksum = 0;
  ByteView original;  // the offending packet's IP header and first 8 payload bytes

  size_t size() const { return kHeaderSize + original.size(); }

  // message is the whole ICMP message. Checks: at least 8 bytes, type 3,
  // and the checksum over the whole message. The original is not decoded.
  static Result<IcmpDestUnreachable> decode(ByteView message);
  // Writes header (checksum computed) and the original; the original may
  // already be in place at out + 8.
  Result<size_t> encode(std::span<uint8_t> out) const;
};

}  // namespace loom::wire
