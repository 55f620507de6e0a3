#include "model/dataplane/flow.h"

#include "model/wire/byte_order.h"
#include "model/wire/ethernet.h"
#include "model/wire/ipv4.h"

namespace loom::dataplane {

namespace {

// Where the IPv4 header of an Ethernet frame (one 802.1Q tag allowed)
// starts; none when the frame carries no IPv4 header of minimal size.
std::optional<size_t> ipv4_offset(ByteView frame) {
  size_t at = wire::EthernetFrame::kHeaderSize;
  if (frame.size() < at) return std::nullopt;
  uint16_t type = wire::load_be16(frame.data() + 12);
  if (type == wire::kEtherTypeVlan) {
    if (frame.size() < at + wire::EthernetFrame::kVlanTagSize) return std::nullopt;
    type = wire::load_be16(frame.data() + 16);
    at += wire::EthernetFrame::kVlanTagSize;
  }
  if (type != wire::kEtherTypeIpv4 || frame.size() < at + wire::Ipv4Packet::kMinHeaderSize) {
    return std::nullopt;
  }
  return at;
}

}  // namespace

// A light read of the headers, no checksum: the frame is only classified
// here (the pods' stacks judge their own packets), and this runs per frame.
std::optional<FlowKey> flow_of(ByteView frame) {
  const auto offset = ipv4_offset(frame);
  if (!offset) return std::nullopt;
  const size_t at = *offset;
  const uint8_t* ip = frame.data() + at;
  const size_t ihl = size_t{ip[0] & 0x0fu} * 4;
  if ((ip[0] >> 4) != 4 || ihl < wire::Ipv4Packet::kMinHeaderSize || frame.size() < at + ihl) {
    return std::nullopt;
  }
  FlowKey key{Ipv4(wire::load_be32(ip + 12)), Ipv4(wire::load_be32(ip + 16)), ip[9], 0, 0};
  if ((wire::load_be16(ip + 6) & 0x1fff) != 0) return key;  // later fragments carry no ports
  const ByteView l4 = frame.subview(at + ihl);
  switch (key.protocol) {
    case wire::kIpProtocolTcp:
    case wire::kIpProtocolUdp:
    case wire::kIpProtocolSctp:  // RFC 9260: the common header starts with the ports too
      if (l4.size() >= 4) {
        key.src_port = wire::load_be16(l4.data());
        key.dst_port = wire::load_be16(l4.data() + 2);
      }
      break;
    case wire::kIpProtocolIcmp:
      // Echo request and reply: the identifier tells pings apart.
      if (l4.size() >= 6 && (l4[0] == 8 || l4[0] == 0))
        key.src_port = wire::load_be16(l4.data() + 4);
      break;
    default:
      break;
  }
  return key;
}

std::optional<FragmentOf> fragment_of(ByteView frame) {
  const auto header = ipv4_offset(frame);
  if (!header) return std::nullopt;
  const uint8_t* ip = frame.data() + *header;
  if ((ip[0] >> 4) != 4) return std::nullopt;
  const uint16_t flags_offset = wire::load_be16(ip + 6);
  const bool more = (flags_offset & 0x2000) != 0;
  const uint16_t offset = flags_offset & 0x1fff;
  if (!more && offset == 0) return std::nullopt;  // not a fragment
  return FragmentOf{Ipv4(wire::load_be32(ip + 12)), Ipv4(wire::load_be32(ip + 16)), ip[9],
                    wire::load_be16(ip + 4), offset == 0};
}

FragmentVerdicts::Key FragmentVerdicts::key(const FragmentOf& f, int direction) {
  return Key{f.src.value, f.dst.value, f.id, f.protocol, static_cast<uint8_t>(direction)};
}

size_t FragmentVerdicts::Hash::operator()(const Key& k) const {
  uint64_t h = (uint64_t{k.src} << 32) | k.dst;
  h ^= (uint64_t{k.id} << 16) ^ (uint64_t{k.protocol} << 8) ^ k.direction;
  h *= 0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

void FragmentVerdicts::remember(const FragmentOf& f, int direction, bool allowed, Time now) {
  entries_[key(f, direction)] = Entry{allowed, now};
}

bool FragmentVerdicts::verdict(const FragmentOf& f, int direction, Time now) const {
  auto it = entries_.find(key(f, direction));
  return it != entries_.end() && now - it->second.at <= std::chrono::seconds(kLifetimeSeconds) &&
         it->second.allowed;
}

void FragmentVerdicts::expire(Time now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = now - it->second.at > std::chrono::seconds(kLifetimeSeconds) ? entries_.erase(it)
                                                                      : std::next(it);
  }
}

size_t FlowCache::Hash::operator()(const Key& k) const {
  uint64_t h = (uint64_t{k.flow.src.value} << 32) | k.flow.dst.value;
  h ^= (uint64_t{k.flow.src_port} << 40) ^ (uint64_t{k.flow.dst_port} << 24) ^
       (uint64_t{k.flow.protocol} << 8) ^ static_cast<uint64_t>(k.direction);
  h *= 0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

std::optional<bool> FlowCache::lookup(const FlowKey& flow, FlowDirection direction) {
  auto it = flows_.find(Key{flow, direction});
  if (it == flows_.end()) return std::nullopt;
  it->second.used = true;
  return it->second.allowed;
}

void FlowCache::insert(const FlowKey& flow, FlowDirection direction, bool allowed) {
  flows_[Key{flow, direction}] = Entry{allowed, true};
}

size_t FlowCache::sweep() {
  size_t dropped = 0;
  for (auto it = flows_.begin(); it != flows_.end();) {
    if (!it->second.used) {
      it = flows_.erase(it);
      ++dropped;
    } else {
      it->second.used = false;
      ++it;
    }
  }
  return dropped;
}

}  // namespace loom::dataplane
