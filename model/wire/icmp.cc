#include "model/wire/icmp.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/checksum.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "icmp";
// The largest message an IPv4 packet can carry.
constexpr size_t kMaxSize = 65535 - 20;

Error not_echo(uint8_t type) {
  return wire_error(
      kCodec, "type " + std::to_string(type) + " is neither echo request (8) nor echo reply (0)");
}

}  // namespace

Result<void> check_icmp_checksum(ByteView message) {
  if (internet_checksum(message) == 0) return {};
  const uint16_t expected =
      InternetChecksum().add(message.subview(0, 2)).add(message.subview(4)).finish();
  return wire_error(kCodec, "checksum " + hex(load_be16(message.data() + 2)) +
                                " is wrong (expected " + hex(expected) + ")");
}

Result<void> check_icmp_size(size_t total, size_t room) {
  if (total > kMaxSize) {
    return wire_error(
        kCodec, "message of " + std::to_string(total) + " bytes does not fit in an IPv4 packet");
  }
  if (room < total) return no_room(kCodec, total, room);
  return {};
}

Result<IcmpEcho> IcmpEcho::decode(ByteView message) {
  if (message.size() < kHeaderSize) {
    return too_short(kCodec, "message", message.size(), kHeaderSize);
  }
  const uint8_t* p = message.data();
  if (p[0] != kIcmpEchoRequest && p[0] != kIcmpEchoReply) return not_echo(p[0]);
  if (auto checked = check_icmp_checksum(message); !checked) return checked.error();
  IcmpEcho out;
  out.type = p[0];
  out.code = p[1];
  out.checksum = load_be16(p + 2);
  out.id = load_be16(p + 4);
  out.seq = load_be16(p + 6);
  out.payload = message.subview(kHeaderSize);
  return out;
}

Result<size_t> IcmpEcho::encode(std::span<uint8_t> out) const {
  if (type != kIcmpEchoRequest && type != kIcmpEchoReply) return not_echo(type);
  const size_t total = size();
  if (auto fits = check_icmp_size(total, out.size()); !fits) return fits.error();
  uint8_t* p = out.data();
  p[0] = type;
  p[1] = code;
  store_be16(p + 2, 0);
  store_be16(p + 4, id);
  store_be16(p + 6, seq);
  place_payload(out, kHeaderSize, payload);
  store_be16(p + 2, internet_checksum(ByteView(p, total)));
  return total;
}

}  // namespace loom::wire
