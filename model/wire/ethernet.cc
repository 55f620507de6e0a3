#include "model/wire/ethernet.h"

#include "model/wire/buffer.h"
#include "model/wire/byte_order.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "ethernet";
constexpr uint16_t kMinEtherType = 0x0600;  // below: an 802.3 length

Error not_an_ethertype(uint16_t type) {
  return wire_error(kCodec,
                    "type field " + hex(type) +
                        " is an 802.3 length, not an EtherType (only Ethernet II is handled)");
}

}  // namespace

Result<EthernetFrame> EthernetFrame::decode(ByteView frame) {
  if (frame.size() < kHeaderSize) return too_short(kCodec, "frame", frame.size(), kHeaderSize);
  const uint8_t* p = frame.data();
  EthernetFrame out;
  out.dst = MacAddress::from(p);
  out.src = MacAddress::from(p + 6);
  uint16_t type = load_be16(p + 12);
  size_t header = kHeaderSize;
  if (type == kEtherTypeVlan) {
    header += kVlanTagSize;
    if (frame.size() < header) {
      return too_short(kCodec, "frame", frame.size(), header, "header with its 802.1Q tag");
    }
    const uint16_t tci = load_be16(p + 14);
    out.vlan = VlanTag{static_cast<uint8_t>(tci >> 13), (tci & 0x1000) != 0,
                       static_cast<uint16_t>(tci & 0x0FFF)};
    type = load_be16(p + 16);
  }
  if (type < kMinEtherType) return not_an_ethertype(type);
  out.ethertype = type;
  out.payload = frame.subview(header);
  return out;
}

Result<size_t> EthernetFrame::encode(std::span<uint8_t> out) const {
  if (ethertype < kMinEtherType) return not_an_ethertype(ethertype);
  if (ethertype == kEtherTypeVlan && !vlan) {
    return wire_error(kCodec, "EtherType 0x8100 needs a VLAN tag (set vlan)");
  }
  if (vlan && vlan->pcp > 7) {
    return wire_error(kCodec, "VLAN priority " + std::to_string(vlan->pcp) + " exceeds 7");
  }
  if (vlan && vlan->vid > 0x0FFF) {
    return wire_error(kCodec, "VLAN id " + std::to_string(vlan->vid) + " exceeds 4095");
  }
  const size_t header = header_size();
  const size_t total = header + payload.size();
  if (out.size() < total) return no_room(kCodec, total, out.size());
  uint8_t* p = out.data();
  std::memcpy(p, dst.bytes.data(), 6);
  std::memcpy(p + 6, src.bytes.data(), 6);
  if (vlan) {
    store_be16(p + 12, kEtherTypeVlan);
    store_be16(p + 14,
               static_cast<uint16_t>((vlan->pcp << 13) | (vlan->dei ? 0x1000 : 0) | vlan->vid));
  }
  store_be16(p + header - 2, ethertype);
  place_payload(out, header, payload);
  return total;
}

}  // namespace loom::wire
