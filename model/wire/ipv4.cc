#include "model/wire/ipv4.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/checksum.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "ipv4";
constexpr uint16_t kFlagReserved = 0x8000;
constexpr uint16_t kFlagDontFragment = 0x4000;
constexpr uint16_t kFlagMoreFragments = 0x2000;

}  // namespace

Result<Ipv4Packet> Ipv4Packet::decode(ByteView packet) {
  const size_t size = packet.size();
  if (size < kMinHeaderSize) return too_short(kCodec, "packet", size, kMinHeaderSize);
  const uint8_t* p = packet.data();
  const unsigned version = p[0] >> 4;
  if (version != 4)
    return wire_error(kCodec, "version " + std::to_string(version) + ", expected 4");
  const size_t header = size_t{p[0] & 0x0Fu} * 4;
  if (header < kMinHeaderSize) {
    return wire_error(kCodec, "header length " + std::to_string(header) + " bytes (IHL " +
                                  std::to_string(header / 4) + ") is below the minimum of 20");
  }
  if (header > size) {
    return wire_error(kCodec, "header length " + std::to_string(header) +
                                  " bytes exceeds buffer of " + std::to_string(size) + " bytes");
  }
  const size_t total = load_be16(p + 2);
  if (total < header) {
    return wire_error(kCodec, "total length " + std::to_string(total) +
                                  " is less than the header length " + std::to_string(header));
  }
  if (total > size) {
    return wire_error(kCodec, "total length " + std::to_string(total) + " exceeds buffer of " +
                                  std::to_string(size) + " bytes");
  }
  const uint16_t flags_offset = load_be16(p + 6);
  if (flags_offset & kFlagReserved) return wire_error(kCodec, "reserved flag bit is set");
  if (internet_checksum(packet.subview(0, header)) != 0) {
    const uint16_t expected =
        InternetChecksum().add(packet.subview(0, 10)).add(packet.subview(12, header - 12)).finish();
    return wire_error(kCodec, "header checksum " + hex(load_be16(p + 10)) + " is wrong (expected " +
                                  hex(expected) + ")");
  }
  Ipv4Packet out;
  out.dscp = p[1] >> 2;
  out.ecn = p[1] & 0x03;
  out.id = load_be16(p + 4);
  out.dont_fragment = (flags_offset & kFlagDontFragment) != 0;
  out.more_fragments = (flags_offset & kFlagMoreFragments) != 0;
  out.fragment_offset = flags_offset & kMaxFragmentOffset;
  out.ttl = p[8];
  out.protocol = p[9];
  out.checksum = load_be16(p + 10);
  out.src = Ipv4(load_be32(p + 12));
  out.dst = Ipv4(load_be32(p + 16));
  out.options = packet.subview(kMinHeaderSize, header - kMinHeaderSize);
  out.payload = packet.subview(header, total - header);
  return out;
}

Result<size_t> Ipv4Packet::encode(std::span<uint8_t> out) const {
  if (dscp > 63) return wire_error(kCodec, "DSCP " + std::to_string(dscp) + " exceeds 63");
  if (ecn > 3) return wire_error(kCodec, "ECN " + std::to_string(ecn) + " exceeds 3");
  if (fragment_offset > kMaxFragmentOffset) {
    return wire_error(kCodec,
                      "fragment offset " + std::to_string(fragment_offset) + " exceeds 8191");
  }
  if (options.size() % 4 != 0 || options.size() > kMaxHeaderSize - kMinHeaderSize) {
    return wire_error(kCodec, "options of " + std::to_string(options.size()) +
                                  " bytes: must be a multiple of 4, at most 40");
  }
  const size_t header = header_size();
  const size_t total = header + payload.size();
  if (total > kMaxSize) {
    return wire_error(kCodec, "total length " + std::to_string(total) + " exceeds 65535");
  }
  if (out.size() < total) return no_room(kCodec, total, out.size());
  uint8_t* p = out.data();
  p[0] = static_cast<uint8_t>(0x40 | (header / 4));
  p[1] = static_cast<uint8_t>((dscp << 2) | ecn);
  store_be16(p + 2, static_cast<uint16_t>(total));
  store_be16(p + 4, id);
  store_be16(p + 6,
             static_cast<uint16_t>((dont_fragment ? kFlagDontFragment : 0) |
                                   (more_fragments ? kFlagMoreFragments : 0) | fragment_offset));
  p[8] = ttl;
  p[9] = protocol;
  store_be16(p + 10, 0);
  store_be32(p + 12, src.value);
  store_be32(p + 16, dst.value);
  place_payload(out, kMinHeaderSize, options);
  store_be16(p + 10, internet_checksum(ByteView(p, header)));
  place_payload(out, header, payload);
  return total;
}

}  // namespace loom::wire
