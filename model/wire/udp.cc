#include "model/wire/udp.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/checksum.h"
#include "model/wire/errors.h"
#include "model/wire/ipv4.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "udp";

}  // namespace

Result<UdpDatagram> UdpDatagram::decode(ByteView segment, Ipv4 src, Ipv4 dst) {
  if (segment.size() < kHeaderSize) {
    return too_short(kCodec, "datagram", segment.size(), kHeaderSize);
  }
  const uint8_t* p = segment.data();
  const uint16_t length = load_be16(p + 4);
  if (length < kHeaderSize) {
    return wire_error(kCodec,
                      "length " + std::to_string(length) + " is less than the 8-byte header");
  }
  if (length > segment.size()) {
    return wire_error(kCodec, "length " + std::to_string(length) + " exceeds buffer of " +
                                  std::to_string(segment.size()) + " bytes");
  }
  const ByteView datagram = segment.subview(0, length);
  const uint16_t checksum = load_be16(p + 6);
  if (checksum != 0) {
    InternetChecksum sum;
    add_ipv4_pseudo_header(sum, src, dst, kIpProtocolUdp, length);
    if (sum.add(datagram).finish() != 0) {
      InternetChecksum expected;
      add_ipv4_pseudo_header(expected, src, dst, kIpProtocolUdp, length);
      expected.add(datagram.subview(0, 6)).add(datagram.subview(8));
      uint16_t want = expected.finish();
      if (want == 0) want = 0xFFFF;
      return wire_error(kCodec,
                        "checksum " + hex(checksum) + " is wrong (expected " + hex(want) + ")");
    }
  }
  UdpDatagram out;
  out.src_port = load_be16(p);
  out.dst_port = load_be16(p + 2);
  out.checksum = checksum;
  out.payload = datagram.subview(kHeaderSize);
  return out;
}

Result<size_t> UdpDatagram::encode(std::span<uint8_t> out, Ipv4 src, Ipv4 dst,
                                   UdpChecksum mode) const {
  const size_t total = size();
  if (total > kMaxSize) {
    return wire_error(kCodec, "length " + std::to_string(total) + " exceeds 65535");
  }
  if (out.size() < total) return no_room(kCodec, total, out.size());
  uint8_t* p = out.data();
  store_be16(p, src_port);
  store_be16(p + 2, dst_port);
  store_be16(p + 4, static_cast<uint16_t>(total));
  store_be16(p + 6, 0);
  place_payload(out, kHeaderSize, payload);
  if (mode == UdpChecksum::kCompute) {
    InternetChecksum sum;
    add_ipv4_pseudo_header(sum, src, dst, kIpProtocolUdp, static_cast<uint16_t>(total));
    const uint16_t sum16 = sum.add(ByteView(p, total)).finish();
    // 0 on the wire means "no checksum": RFC 768 sends the other zero.
    store_be16(p + 6, sum16 == 0 ? 0xFFFF : sum16);
  }
  return total;
}

}  // namespace loom::wire
