#include "model/wire/vxlan.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "vxlan";

}  // namespace

Result<VxlanPacket> VxlanPacket::decode(ByteView packet) {
  if (packet.size() < kHeaderSize) {
    return too_short(kCodec, "packet", packet.size(), kHeaderSize);
  }
  const uint8_t* p = packet.data();
  if ((p[0] & kFlagI) == 0)
    return wire_error(kCodec, "I flag not set (flags " + hex(p[0], 2) + ")");
  VxlanPacket out;
  out.flags = p[0];
  out.reserved1 = load_be24(p + 1);
  out.vni = load_be24(p + 4);
  out.reserved2 = p[7];
  out.payload = packet.subview(kHeaderSize);
  return out;
}

Result<size_t> VxlanPacket::encode(std::span<uint8_t> out) const {
  if (vni > kMaxVni) return wire_error(kCodec, "VNI " + std::to_string(vni) + " exceeds 24 bits");
  if ((flags & kFlagI) == 0) {
    return wire_error(kCodec, "I flag not set (flags " + hex(flags, 2) + ")");
  }
  if (reserved1 > 0xFFFFFF) {
    return wire_error(kCodec, "reserved field " + hex(reserved1, 8) + " exceeds 24 bits");
  }
  const size_t total = kHeaderSize + payload.size();
  if (out.size() < total) return no_room(kCodec, total, out.size());
  uint8_t* p = out.data();
  p[0] = flags;
  store_be24(p + 1, reserved1);
  store_be24(p + 4, vni);
  p[7] = reserved2;
  place_payload(out, kHeaderSize, payload);
  return total;
}

}  // namespace loom::wire
