// Frames captured from Linux (kernel 6.18) with tcpdump -xx, between two
// network namespaces joined by a veth pair (02:00:00:00:00:01 192.168.77.1 and
// 02:00:00:00:00:02 192.168.77.2), each with a vxlan device
//   ip link add vx0 type vxlan id 42 dstport 4789 local A remote B dev veth
// (MACs 0a:00:00:00:0a:01 10.77.0.1 and 0a:00:00:00:0b:02 10.77.0.2), while
//   ping -c 1 -s 24 -p 4c6f6f6d 10.77.0.2
// ran in the first. Captured on the second's veth.
#pragma once

#include <string_view>

namespace loom::wire::testing {

// The underlay's ARP, who-has 192.168.77.2 tell 192.168.77.1.
inline constexpr std::string_view kArpRequestFrame =
    "ffff ffff ffff 0200 0000 0001 0806 0001"
    "0800 0604 0001 0200 0000 0001 c0a8 4d01"
    "0000 0000 0000 c0a8 4d02";

// 192.168.77.2 is-at 02:00:00:00:00:02.
inline constexpr std::string_view kArpReplyFrame =
    "0200 0000 0001 0200 0000 0002 0806 0001"
    "0800 0604 0002 0200 0000 0002 c0a8 4d02"
    "0200 0000 0001 c0a8 4d01";

// vx0 with noudpcsum: VXLAN (VNI 42, UDP checksum 0) carrying the overlay's
// ARP request who-has 10.77.0.2 tell 10.77.0.1.
inline constexpr std::string_view kVxlanArpRequestFrame =
    "0200 0000 0002 0200 0000 0001 0800 4500"
    "004e 36c6 0000 4011 2885 c0a8 4d01 c0a8"
    "4d02 c639 12b5 003a 0000 0800 0000 0000"
    "2a00 ffff ffff ffff 0a00 0000 0a01 0806"
    "0001 0800 0604 0001 0a00 0000 0a01 0a4d"
    "0001 0000 0000 0000 0a4d 0002";

// vx0 with noudpcsum: the ICMP echo request 10.77.0.1 -> 10.77.0.2 (id
// 0x1068, seq 1, inner DF set, 24-byte payload: a timestamp, then "LoomLoom").
inline constexpr std::string_view kVxlanPingRequestFrame =
    "0200 0000 0002 0200 0000 0001 0800 4500"
    "0066 36c7 0000 4011 286c c0a8 4d01 c0a8"
    "4d02 c013 12b5 0052 0000 0800 0000 0000"
    "2a00 0a00 0000 0b02 0a00 0000 0a01 0800"
    "4500 0034 997a 4000 4001 8cb2 0a4d 0001"
    "0a4d 0002 0800 982e 1068 0001 b25d 086b"
    "0000 0000 0ee6 0e00 0000 0000 4c6f 6f6d"
    "4c6f 6f6d";

// vx0 with noudpcsum: the echo reply 10.77.0.2 -> 10.77.0.1.
inline constexpr std::string_view kVxlanPingReplyFrame =
    "0200 0000 0001 0200 0000 0002 0800 4500"
    "0066 63ad 0000 4011 fb85 c0a8 4d02 c0a8"
    "4d01 c013 12b5 0052 0000 0800 0000 0000"
    "2a00 0a00 0000 0a01 0a00 0000 0b02 0800"
    "4500 0034 1594 0000 4001 5099 0a4d 0002"
    "0a4d 0001 0000 a02e 1068 0001 b25d 086b"
    "0000 0000 0ee6 0e00 0000 0000 4c6f 6f6d"
    "4c6f 6f6d";

// vx0 with udpcsum (and tx checksum offload off on the veth, so the
// checksum is complete on the wire): an echo request with UDP checksum
// 0xae29 over the IPv4 pseudo header.
inline constexpr std::string_view kVxlanPingRequestWithUdpChecksumFrame =
    "0200 0000 0002 0200 0000 0001 0800 4500"
    "0066 3c32 0000 4011 2301 c0a8 4d01 c0a8"
    "4d02 c013 12b5 0052 ae29 0800 0000 0000"
    "2a00 0a00 0000 0b02 0a00 0000 0a01 0800"
    "4500 0034 a000 4000 4001 862c 0a4d 0001"
    "0a4d 0002 0800 2c59 10c0 0001 bc5d 086b"
    "0000 0000 7263 0c00 0000 0000 4c6f 6f6d"
    "4c6f 6f6d";

}  // namespace loom::wire::testing
