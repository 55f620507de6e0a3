// ARP for IPv4 over Ethernet (RFC 826): requests and replies only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/address.h"
#include "model/bytes.h"
#include "model/result.h"
#include "model/wire/mac.h"

namespace loom::wire {

enum class ArpOp : uint16_t { kRequest = 1, kReply = 2 };

struct ArpPacket {
  static constexpr size_t kSize = 28;

  ArpOp op = ArpOp::kRequest;
  MacAddress sender_mac;
  Ipv4 sender_ip;
  MacAddress target_mac;  // zero in a request
  Ipv4 target_ip;

  // Checks hardware type 1 (Ethernet), protocol 0x0800 (IPv4), lengths 6
  // and 4, and operation 1 or 2. Bytes after the 28 (Ethernet padding) are
  // ignored.
  static Result<ArpPacket> decode(ByteView packet);
  // Writes the 28 bytes.
  Result<size_t> encode(std::span<uint8_t> out) const;

  friend bool operator==(const ArpPacket&, const ArpPacket&) = default;
};

}  // namespace loom::wire
