#include "model/wire/vxlan_frame.h"

#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "vxlan";
constexpr size_t kIpOffset = EthernetFrame::kHeaderSize;
constexpr size_t kUdpOffset = kIpOffset + Ipv4Packet::kMinHeaderSize;
constexpr size_t kVxlanOffset = kUdpOffset + UdpDatagram::kHeaderSize;

Error inner_error(const Error& error) {
  return wire_error(kCodec, "inner frame: " + error.message);
}

}  // namespace

Result<size_t> vxlan_encap(const VxlanTunnel& tunnel, uint16_t ip_id, ByteView inner_frame,
                           std::span<uint8_t> out) {
  if (inner_frame.size() < EthernetFrame::kHeaderSize) {
    return inner_error(
        too_short("ethernet", "frame", inner_frame.size(), EthernetFrame::kHeaderSize));
  }
  const size_t total = kVxlanOverhead + inner_frame.size();
  if (out.size() < total) return no_room(kCodec, total, out.size());
  out = out.first(total);

  // Innermost first: each layer's payload is then already in place.
  VxlanPacket vxlan;
  vxlan.vni = tunnel.vni;
  vxlan.payload = inner_frame;
  auto vxlan_size = vxlan.encode(out.subspan(kVxlanOffset));
  if (!vxlan_size) return vxlan_size.error();

  UdpDatagram udp;
  udp.src_port = tunnel.src_port;
  udp.dst_port = tunnel.dst_port;
  udp.payload = ByteView(out.data() + kVxlanOffset, *vxlan_size);
  auto udp_size =
      udp.encode(out.subspan(kUdpOffset), tunnel.src_ip, tunnel.dst_ip, tunnel.udp_checksum);
  if (!udp_size) return udp_size.error();

  Ipv4Packet ip;
  ip.dscp = tunnel.dscp;
  ip.ecn = tunnel.ecn;
  ip.id = ip_id;
  ip.dont_fragment = tunnel.dont_fragment;
  ip.ttl = tunnel.ttl;
  ip.protocol = kIpProtocolUdp;
  ip.src = tunnel.src_ip;
  ip.dst = tunnel.dst_ip;
  ip.payload = ByteView(out.data() + kUdpOffset, *udp_size);
  auto ip_size = ip.encode(out.subspan(kIpOffset));
  if (!ip_size) return ip_size.error();

  EthernetFrame ethernet;
  ethernet.dst = tunnel.dst_mac;
  ethernet.src = tunnel.src_mac;
  ethernet.ethertype = kEtherTypeIpv4;
  ethernet.payload = ByteView(out.data() + kIpOffset, *ip_size);
  return ethernet.encode(out);
}

Result<VxlanFrame> vxlan_decap(ByteView frame, uint16_t dst_port) {
  VxlanFrame out;
  auto ethernet = EthernetFrame::decode(frame);
  if (!ethernet) return ethernet.error();
  out.outer_ethernet = *ethernet;
  if (out.outer_ethernet.ethertype != kEtherTypeIpv4) {
    return wire_error(kCodec,
                      "outer EtherType " + hex(out.outer_ethernet.ethertype) + " is not IPv4");
  }

  auto ip = Ipv4Packet::decode(out.outer_ethernet.payload);
  if (!ip) return ip.error();
  out.outer_ip = *ip;
  if (out.outer_ip.is_fragment()) {
    return wire_error(kCodec, "outer IPv4 packet is a fragment (offset " +
                                  std::to_string(out.outer_ip.fragment_offset_bytes()) +
                                  (out.outer_ip.more_fragments ? ", more fragments" : "") +
                                  "); fragments are not reassembled");
  }
  if (out.outer_ip.protocol != kIpProtocolUdp) {
    return wire_error(kCodec, "outer IPv4 protocol " + std::to_string(out.outer_ip.protocol) +
                                  " is not UDP (17)");
  }

  auto udp = UdpDatagram::decode(out.outer_ip.payload, out.outer_ip.src, out.outer_ip.dst);
  if (!udp) return udp.error();
  out.udp = *udp;
  if (out.udp.dst_port != dst_port) {
    return wire_error(kCodec, "UDP destination port " + std::to_string(out.udp.dst_port) +
                                  ", expected " + std::to_string(dst_port));
  }

  auto vxlan = VxlanPacket::decode(out.udp.payload);
  if (!vxlan) return vxlan.error();
  out.vxlan = *vxlan;

  auto inner = EthernetFrame::decode(out.vxlan.payload);
  if (!inner) return inner_error(inner.error());
  out.inner = *inner;
  return out;
}

}  // namespace loom::wire
