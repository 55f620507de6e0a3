// Decapsulates a whole underlay frame (Ethernet, IPv4, UDP to 4789, VXLAN,
// inner Ethernet). When the frame has the shape vxlan_encap produces (no
// VLAN tag, no IP options, no padding, no reserved VXLAN bits), encap of
// the decoded fields must give the input back.
#include <vector>

#include "model/wire/vxlan_frame.h"
#include "tests/fuzz/fuzz_check.h"

using namespace loom::wire;
using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto frame = vxlan_decap(loom::ByteView(data, size), kVxlanPort);
  if (!frame) return 0;
  check(fuzz::inside(frame->inner_frame(), data, size), "inner frame inside input");
  check(frame->inner_frame().size() >= EthernetFrame::kHeaderSize, "inner frame has a header");
  check(!frame->outer_ip.is_fragment(), "no fragments");

  const bool encap_shaped = !frame->outer_ethernet.vlan && frame->outer_ip.options.empty() &&
                            frame->outer_ip.total_length() == size - EthernetFrame::kHeaderSize &&
                            frame->udp.size() == frame->outer_ip.payload.size() &&
                            !frame->vxlan.has_reserved_bits();
  if (!encap_shaped) return 0;
  VxlanTunnel tunnel;
  tunnel.src_mac = frame->outer_ethernet.src;
  tunnel.dst_mac = frame->outer_ethernet.dst;
  tunnel.src_ip = frame->outer_ip.src;
  tunnel.dst_ip = frame->outer_ip.dst;
  tunnel.src_port = frame->udp.src_port;
  tunnel.dst_port = frame->udp.dst_port;
  tunnel.vni = frame->vxlan.vni;
  tunnel.ttl = frame->outer_ip.ttl;
  tunnel.dscp = frame->outer_ip.dscp;
  tunnel.ecn = frame->outer_ip.ecn;
  tunnel.dont_fragment = frame->outer_ip.dont_fragment;
  tunnel.udp_checksum = frame->udp.checksum == 0 ? UdpChecksum::kNone : UdpChecksum::kCompute;
  std::vector<uint8_t> out(size);
  auto written = vxlan_encap(tunnel, frame->outer_ip.id, frame->inner_frame(), out);
  check(written.ok() && *written == size, "decapsulated frame encapsulates");
  check(fuzz::same_with_checksum(out.data(), data, size, EthernetFrame::kHeaderSize + 10),
        "round trip");
  return 0;
}
