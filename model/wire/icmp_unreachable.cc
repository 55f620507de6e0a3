#include "model/wire/icmp_unreachable.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/checksum.h"
#include "model/wire/errors.h"
#include "model/wire/icmp.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "icmp";

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
  if (auto checked = check_icmp_checksum(message); !checked) return checked.error();
  IcmpDestUnreachable out;
  out.code = p[1];
  out.checksum = load_be16(p + 2);
  out.next_hop_mtu = load_be16(p + 6);
  out.original = message.subview(kHeaderSize);
  return out;
}

Result<size_t> IcmpDestUnreachable::encode(std::span<uint8_t> out) const {
  const size_t total = size();
  if (auto fits = check_icmp_size(total, out.size()); !fits) return fits.error();
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
