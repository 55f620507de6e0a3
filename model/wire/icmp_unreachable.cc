#include "model/wire/icmp_unreachable.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/checksum.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "icmp";
constexpr size_t kMaxSize = 65535 - 20;

}  // namespace

Result<IcmpDestUnreachable> IcmpDestUnreachable::decode(ByteView message) {
  if (message.size() < kHeaderSize) {
    return too_short(kCodec, "message", message.size(), kHeaderSize);
  }
  const uint8_t* p = message.data();
  if (p[0] != kIcmpDestUnreachable) {
    return wire_error(kCodec,
                      "type " + std::to_string(p[0]) + " is not destination unreachable (3)");
  }
  if (internet_checksum(message) != 0) {
    const uint16_t expected =
        InternetChecksum().add(message.subview(0, 2)).add(message.subview(4)).finish();
    return wire_error(
        kCodec, "checksum " + hex(load_be16(p + 2)) + " is wrong (expected " + hex(expected) + ")");
  }
  IcmpDestUnreachable out;
  out.code = p[1];
  out.checksum = load_be16(p + 2);
  out.next_hop_mtu = load_be16(p + 6);
  out.original = message.subview(kHeaderSize);
  return out;
}

Result<size_t> IcmpDestUnreachable::encode(std::span<uint8_t> out) const {
  const size_t total = size();
  if (total > kMaxSize) {
    return wire_error(
        kCodec, "message of " + std::to_string(total) + " bytes does not fit in an IPv4 packet");
  }
  if (out.size() < total) return no_room(kCodec, total, out.size());
  uint8_t* p = out.data();
  p[0] = kIcmpDestUnreachable;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be16(p + 4, 0);
  store_be16(p + 6, next_hop_mtu);
  place_payload(out, kHeaderSize, original);
  store_be16(p + 2, internet_checksum(ByteView(p, total)));
  return total;
}

}  // namespace loom::wire
