#include "model/dataplane/frag_needed.h"

#include <algorithm>

#include "model/wire/ethernet.h"
#include "model/wire/icmp_unreachable.h"
#include "model/wire/ipv4.h"

namespace loom::dataplane {

bool ipv4_dont_fragment(ByteView frame) {
  // Ethernet (14): type at 12; IPv4 flags at 14 + 6, DF is 0x40.
  return frame.size() >= 14 + 20 && frame[12] == 0x08 && frame[13] == 0x00 &&
         (frame[14] >> 4) == 4 && (frame[20] & 0x40) != 0;
}

Result<Bytes> make_frag_needed(ByteView frame, size_t mtu) {
  auto eth = wire::EthernetFrame::decode(frame);
  if (!eth) return eth.error();
  if (eth->ethertype != wire::kEtherTypeIpv4) return make_error("frag-needed: not IPv4");
  auto ip = wire::Ipv4Packet::decode(eth->payload);
  if (!ip) return ip.error();
  // The original IP header and the first 8 bytes of its payload.
  const ByteView quoted =
      eth->payload.subview(0, ip->header_size() + std::min<size_t>(8, ip->payload.size()));

  wire::IcmpDestUnreachable icmp;
  icmp.code = wire::kIcmpCodeFragNeeded;
  icmp.next_hop_mtu = static_cast<uint16_t>(std::min<size_t>(mtu, 0xffff));
  icmp.original = quoted;
  Bytes icmp_bytes(icmp.size());
  if (auto n = icmp.encode(icmp_bytes); !n) return n.error();

  wire::Ipv4Packet reply;
  reply.dscp = ip->dscp;
  reply.ecn = ip->ecn;
  reply.id = 0;
  reply.ttl = 64;
  reply.protocol = wire::kIpProtocolIcmp;
  reply.src = ip->dst;
  reply.dst = ip->src;
  reply.payload = icmp_bytes;
  Bytes ip_bytes(wire::Ipv4Packet::kMinHeaderSize + icmp_bytes.size());
  if (auto n = reply.encode(ip_bytes); !n) return n.error();

  wire::EthernetFrame out;
  out.src = eth->dst;
  out.dst = eth->src;
  out.ethertype = wire::kEtherTypeIpv4;
  out.payload = ip_bytes;
  Bytes result(out.size());
  if (auto n = out.encode(result); !n) return n.error();
  return result;
}

}  // namespace loom::dataplane
