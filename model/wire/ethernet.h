// Ethernet II frames (no preamble, no FCS), with at most one 802.1Q tag.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "model/bytes.h"
#include "model/result.h"
#include "model/wire/mac.h"

namespace loom::wire {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // the 802.1Q TPID
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;

// The 802.1Q tag control information.
struct VlanTag {
  uint8_t pcp = 0;   // priority code point, 3 bits
  bool dei = false;  // drop eligible
  uint16_t vid = 0;  // VLAN id, 12 bits (0: priority tag only)

  friend constexpr bool operator==(const VlanTag&, const VlanTag&) = default;
};

// A decoded frame. payload points into the decoded bytes: it lives as long
// as they do.
struct EthernetFrame {
  static constexpr size_t kHeaderSize = 14;
  static constexpr size_t kVlanTagSize = 4;

  MacAddress dst;
  MacAddress src;
  std::optional<VlanTag> vlan;
  // The EtherType after the tag, if any. A second tag (QinQ) is not parsed:
  // it shows here as 0x8100 with the tag at the start of payload.
  uint16_t ethertype = 0;
  ByteView payload;

  size_t header_size() const { return vlan ? kHeaderSize + kVlanTagSize : kHeaderSize; }
  size_t size() const { return header_size() + payload.size(); }

  // Checks the frame holds its header and that the type field is an
  // EtherType (>= 0x0600; 802.3 length frames are refused). Everything after
  // the header is payload: frames carry no FCS here, and padding up to the
  // 60-byte minimum stays in the payload for the next layer to ignore.
  static Result<EthernetFrame> decode(ByteView frame);

  // Writes header and payload to out (payload may already be in place at
  // out[header_size()...]). Returns the bytes written. Does not pad to the
  // 60-byte minimum.
  Result<size_t> encode(std::span<uint8_t> out) const;
};

}  // namespace loom::wire
