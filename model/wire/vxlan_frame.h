// A whole VXLAN frame on the underlay: outer Ethernet, IPv4, UDP, VXLAN,
// then the inner Ethernet frame. encap builds one, decap takes one apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "model/address.h"
#include "model/bytes.h"
#include "model/result.h"
#include "model/wire/ethernet.h"
#include "model/wire/ipv4.h"
#include "model/wire/mac.h"
#include "model/wire/udp.h"
#include "model/wire/vxlan.h"

namespace loom::wire {

// Outer Ethernet (14, untagged) + IPv4 (20, no options) + UDP (8) + VXLAN (8)
// that vxlan_encap puts in front of the inner frame.
inline constexpr size_t kVxlanOverhead = EthernetFrame::kHeaderSize + Ipv4Packet::kMinHeaderSize +
                                         UdpDatagram::kHeaderSize + VxlanPacket::kHeaderSize;

// The outer headers of one tunnel: what stays the same from packet to packet.
// Defaults are Weave's fastdp settings (TTL 64, TOS 0, DF, no UDP checksum).
struct VxlanTunnel {
  MacAddress src_mac;
  MacAddress dst_mac;  // the next hop on the underlay
  Ipv4 src_ip;
  Ipv4 dst_ip;
  uint16_t src_port = 0;  // Linux picks it per inner flow, for ECMP
  uint16_t dst_port = kVxlanPort;
  uint32_t vni = 0;
  uint8_t ttl = 64;
  uint8_t dscp = 0;
  uint8_t ecn = 0;
  bool dont_fragment = true;
  UdpChecksum udp_checksum = UdpChecksum::kNone;
};

// Writes the outer headers and the inner frame to out; the inner frame may
// already be in place at out + kVxlanOverhead, and is then not copied.
// ip_id is the outer IPv4 identification, the caller's per-packet counter.
// Fails when inner_frame is shorter than an Ethernet header, a tunnel field
// is out of range, or out is smaller than kVxlanOverhead + inner_frame.size().
Result<size_t> vxlan_encap(const VxlanTunnel& tunnel, uint16_t ip_id, ByteView inner_frame,
                           std::span<uint8_t> out);

// A decapsulated frame; every view points into the decoded bytes.
struct VxlanFrame {
  EthernetFrame outer_ethernet;
  Ipv4Packet outer_ip;
  UdpDatagram udp;
  VxlanPacket vxlan;
  EthernetFrame inner;  // inner.payload and friends point into the frame too

  // The inner frame's bytes, as they go to the bridge.
  ByteView inner_frame() const { return vxlan.payload; }
};

// Decodes every layer with its own checks, and also: the outer EtherType is
// IPv4 (an outer 802.1Q tag is allowed), the packet is not a fragment, the
// protocol is UDP, the destination port is dst_port, and the inner frame
// holds an Ethernet header.
Result<VxlanFrame> vxlan_decap(ByteView frame, uint16_t dst_port);

}  // namespace loom::wire
