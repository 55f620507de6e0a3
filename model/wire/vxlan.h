// The VXLAN header (RFC 7348): 8 bytes in front of an inner Ethernet frame.
//
//   flags (8: R R R R I R R R) | reserved (24) | VNI (24) | reserved (8)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire {

// IANA's port, Linux's default. Weave's fastdp uses 6784.
inline constexpr uint16_t kVxlanPort = 4789;

struct VxlanPacket {
  static constexpr size_t kHeaderSize = 8;
  static constexpr uint8_t kFlagI = 0x08;  // "the VNI is valid"
  static constexpr uint32_t kMaxVni = 0xFFFFFF;

  uint32_t vni = 0;        // 24 bits
  uint8_t flags = kFlagI;  // I must be set; the R bits are carried as received
  uint32_t reserved1 = 0;  // the 24 bits after the flags
  uint8_t reserved2 = 0;   // the 8 bits after the VNI
  ByteView payload;        // the inner Ethernet frame

  // RFC 7348 says reserved bits are ignored on receipt, so decode() accepts
  // them; Linux's vxlan driver drops such packets unless an extension (GBP,
  // GPE) explains them. A data plane that wants Linux's strictness checks this.
  bool has_reserved_bits() const {
    return (flags & ~kFlagI) != 0 || reserved1 != 0 || reserved2 != 0;
  }

  // Checks: at least 8 bytes and the I flag set.
  static Result<VxlanPacket> decode(ByteView packet);
  // Writes header and payload (payload may already be in place at out + 8).
  // Fails when the VNI exceeds 24 bits, I is not set in flags, or reserved1
  // exceeds 24 bits.
  Result<size_t> encode(std::span<uint8_t> out) const;
};

}  // namespace loom::wire
