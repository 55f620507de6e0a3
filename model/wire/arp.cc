#include "model/wire/arp.h"

#include <cstring>

#include "model/wire/byte_order.h"
#include "model/wire/errors.h"

namespace loom::wire {
namespace {

constexpr std::string_view kCodec = "arp";
constexpr uint16_t kHardwareEthernet = 1;
constexpr uint16_t kProtocolIpv4 = 0x0800;

}  // namespace

Result<ArpPacket> ArpPacket::decode(ByteView packet) {
  if (packet.size() < kSize) return too_short(kCodec, "packet", packet.size(), kSize, "packet");
  const uint8_t* p = packet.data();
  const uint16_t htype = load_be16(p);
  if (htype != kHardwareEthernet) {
    return wire_error(kCodec, "hardware type " + std::to_string(htype) + ", expected 1 (Ethernet)");
  }
  const uint16_t ptype = load_be16(p + 2);
  if (ptype != kProtocolIpv4) {
    return wire_error(kCodec, "protocol type " + hex(ptype) + ", expected 0x0800 (IPv4)");
  }
  if (p[4] != 6) {
    return wire_error(kCodec, "hardware address length " + std::to_string(p[4]) + ", expected 6");
  }
  if (p[5] != 4) {
    return wire_error(kCodec, "protocol address length " + std::to_string(p[5]) + ", expected 4");
  }
  const uint16_t op = load_be16(p + 6);
  if (op != 1 && op != 2) {
    return wire_error(kCodec,
                      "operation " + std::to_string(op) + " is neither request (1) nor reply (2)");
  }
  ArpPacket out;
  out.op = static_cast<ArpOp>(op);
  out.sender_mac = MacAddress::from(p + 8);
  out.sender_ip = Ipv4(load_be32(p + 14));
  out.target_mac = MacAddress::from(p + 18);
  out.target_ip = Ipv4(load_be32(p + 24));
  return out;
}

Result<size_t> ArpPacket::encode(std::span<uint8_t> out) const {
  if (op != ArpOp::kRequest && op != ArpOp::kReply) {
    return wire_error(kCodec, "operation " + std::to_string(static_cast<uint16_t>(op)) +
                                  " is neither request (1) nor reply (2)");
  }
  if (out.size() < kSize) return no_room(kCodec, kSize, out.size());
  uint8_t* p = out.data();
  store_be16(p, kHardwareEthernet);
  store_be16(p + 2, kProtocolIpv4);
  p[4] = 6;
  p[5] = 4;
  store_be16(p + 6, static_cast<uint16_t>(op));
  std::memcpy(p + 8, sender_mac.bytes.data(), 6);
  store_be32(p + 14, sender_ip.value);
  std::memcpy(p + 18, target_mac.bytes.data(), 6);
  store_be32(p + 24, target_ip.value);
  return kSize;
}

}  // namespace loom::wire
