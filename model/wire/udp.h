// UDP datagrams over IPv4 (RFC 768).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/address.h"
#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire {

// Whether encode() fills in the checksum. Over IPv4 a zero checksum means
// "none"; Weave's fastdp and Linux vxlan with noudpcsum send none.
enum class UdpChecksum { kNone, kCompute };

struct UdpDatagram {
  static constexpr size_t kHeaderSize = 8;
  static constexpr size_t kMaxSize = 65535;

  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  // As received; 0 when the sender sent none. encode() ignores it.
  uint16_t checksum = 0;
  ByteView payload;  // up to the length field: IPv4 padding is not included

  size_t size() const { return kHeaderSize + payload.size(); }

  // segment is the IPv4 payload; src and dst are the IPv4 addresses (the
  // pseudo header). Checks: 8 <= length <= segment, and the checksum when
  // it is non-zero. Bytes after the length are ignored, as Linux does.
  static Result<UdpDatagram> decode(ByteView segment, Ipv4 src, Ipv4 dst);

  // Writes header and payload (payload may already be in place at out + 8).
  // With kCompute a checksum that comes out 0 is sent as 0xffff.
  Result<size_t> encode(std::span<uint8_t> out, Ipv4 src, Ipv4 dst, UdpChecksum mode) const;
};

}  // namespace loom::wire
