// ICMP echo request and reply (RFC 792): what ping sends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire {

inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;

// Shared by the ICMP codecs (echo, destination unreachable): an error naming
// the checksum found and the one expected unless the message's verifies;
// an error unless a message of `total` bytes fits an IPv4 packet and `room`.
Result<void> check_icmp_checksum(ByteView message);
Result<void> check_icmp_size(size_t total, size_t room);

struct IcmpEcho {
  static constexpr size_t kHeaderSize = 8;

  uint8_t type = kIcmpEchoRequest;  // kIcmpEchoRequest or kIcmpEchoReply
  uint8_t code = 0;                 // 0 by RFC 792; carried as received
  // As received (already verified). encode() computes its own.
  uint16_t checksum = 0;
  uint16_t id = 0;
  uint16_t seq = 0;
  ByteView payload;

  bool is_request() const { return type == kIcmpEchoRequest; }
  size_t size() const { return kHeaderSize + payload.size(); }

  // message is the whole ICMP message (the IPv4 payload). Checks: at least 8
  // bytes, type 0 or 8, and the checksum over the whole message.
  static Result<IcmpEcho> decode(ByteView message);
  // Writes header (checksum computed) and payload; payload may already be in
  // place at out + 8.
  Result<size_t> encode(std::span<uint8_t> out) const;
};

}  // namespace loom::wire
