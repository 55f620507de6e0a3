// IPv4 packets (RFC 791). Options are length-checked and carried, not parsed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/address.h"
#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire {

inline constexpr uint8_t kIpProtocolIcmp = 1;
inline constexpr uint8_t kIpProtocolTcp = 6;
inline constexpr uint8_t kIpProtocolUdp = 17;
inline constexpr uint8_t kIpProtocolEsp = 50;
inline constexpr uint8_t kIpProtocolSctp = 132;

// A decoded packet. options and payload point into the decoded bytes.
struct Ipv4Packet {
  static constexpr size_t kMinHeaderSize = 20;
  static constexpr size_t kMaxHeaderSize = 60;
  static constexpr size_t kMaxSize = 65535;
  static constexpr uint16_t kMaxFragmentOffset = 0x1FFF;

  uint8_t dscp = 0;  // 6 bits
  uint8_t ecn = 0;   // 2 bits
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;  // 13 bits, in units of 8 bytes as on the wire
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  // As received (already verified). encode() ignores it and computes its own.
  uint16_t checksum = 0;
  Ipv4 src;
  Ipv4 dst;
  ByteView options;  // the header after its first 20 bytes, unparsed
  ByteView payload;  // up to the total length: link padding is not included

  // A fragment's payload is only part of the upper-layer datagram: do not
  // decode it as UDP or ICMP. (Reassembly is not done here.)
  bool is_fragment() const { return more_fragments || fragment_offset != 0; }
  size_t fragment_offset_bytes() const { return size_t{fragment_offset} * 8; }
  size_t header_size() const { return kMinHeaderSize + options.size(); }
  size_t total_length() const { return header_size() + payload.size(); }

  // Checks: at least 20 bytes, version 4, IHL >= 5 and within the buffer,
  // IHL * 4 <= total length <= buffer, the reserved flag clear, and the header
  // checksum. Bytes after the total length are ignored.
  static Result<Ipv4Packet> decode(ByteView packet);

  // Writes header (checksum computed) and payload to out; options and payload
  // may already be in place. Fails when a field is out of range, options are
  // not a multiple of 4 bytes up to 40, the total exceeds 65,535 or out is
  // too small. Returns the bytes written (the total length).
  Result<size_t> encode(std::span<uint8_t> out) const;
};

}  // namespace loom::wire
