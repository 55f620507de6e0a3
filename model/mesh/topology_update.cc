#include "model/mesh/topology_update.h"

#include <cassert>
#include <string>

namespace loom::mesh {
namespace {

constexpr size_t kRecordFixedSize = 2 + 8 + 8 + 2 + 1;  // up to the nickname
constexpr uint16_t kHasShortIdBit = 0x8000;
constexpr uint16_t kShortIdReservedBits = 0x7000;

uint64_t load48(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 0; i < PeerName::kWireSize; ++i) v = (v << 8) | p[i];
  return v;
}

uint64_t load64(const uint8_t* p) {
  uint64_t v = 0;
  for (size_t i = 8; i-- > 0;) v = (v << 8) | p[i];
  return v;
}

Error fail(std::string what) { return make_error("topology update: " + std::move(what)); }

}  // namespace

PeerName TopologyUpdateView::name(size_t index) const {
  assert(index < name_count_);
  return PeerName(load48(data_ + 3 + index * PeerName::kWireSize));
}

size_t TopologyUpdateView::record_name_index(size_t record) const {
  return u16(data_ + records_[record].offset);
}

PeerSummary TopologyUpdateView::summary(size_t record) const {
  const Record& r = records_[record];
  const uint8_t* p = data_ + r.offset;
  PeerSummary s;
  s.name = name(u16(p));
  s.uid = load64(p + 2);
  s.version = load64(p + 10);
  const uint16_t short_id = u16(p + 18);
  s.has_short_id = (short_id & kHasShortIdBit) != 0;
  s.short_id = static_cast<ShortID>(short_id & ((1u << kShortIDBits) - 1));
  s.nickname =
      std::string_view(reinterpret_cast<const char*>(p + kRecordFixedSize), r.nickname_size);
  return s;
}

Result<TopologyUpdateView> TopologyUpdateView::decode(ByteView bytes) {
  TopologyUpdateView view;
  view.data_ = bytes.data();
  const uint8_t* const base = bytes.data();
  const size_t size = bytes.size();
  size_t at = 0;
  auto need = [&](size_t n) { return size - at >= n; };

  if (!need(1)) return fail("empty");
  if (base[0] != kFormat) return fail("unknown format " + std::to_string(base[0]));
  at = 1;
  if (!need(2)) return fail("truncated name count");
  view.name_count_ = u16(base + at);
  at += 2;
  if (!need(view.name_count_ * PeerName::kWireSize)) {
    return fail("name table truncated (" + std::to_string(view.name_count_) + " names)");
  }
  uint64_t previous = 0;
  for (size_t i = 0; i < view.name_count_; ++i) {
    const uint64_t n = load48(base + at + i * PeerName::kWireSize);
    if (n == 0) return fail("name " + std::to_string(i) + " is the unknown peer name");
    if (i > 0 && n <= previous)
      return fail("name table not strictly increasing at " + std::to_string(i));
    previous = n;
  }
  at += view.name_count_ * PeerName::kWireSize;

  if (!need(2)) return fail("truncated record count");
  const size_t record_count = u16(base + at);
  at += 2;
  // Every record takes at least kRecordFixedSize + 2 bytes: bounds the reserve.
  if (record_count > (size - at) / (kRecordFixedSize + 2)) {
    return fail("record count " + std::to_string(record_count) + " exceeds the message");
  }
  view.records_.reserve(record_count);
  for (size_t r = 0; r < record_count; ++r) {
    // Named only when something is wrong (this runs for every record).
    auto which = [r] { return "record " + std::to_string(r); };
    Record rec;
    rec.offset = at;
    if (!need(kRecordFixedSize)) return fail(which() + " truncated");
    const uint8_t* p = base + at;
    if (u16(p) >= view.name_count_) return fail(which() + ": name index out of range");
    if ((u16(p + 18) & kShortIdReservedBits) != 0)
      return fail(which() + ": reserved short ID bits set");
    rec.nickname_size = p[20];
    at += kRecordFixedSize;
    if (!need(rec.nickname_size)) return fail(which() + ": nickname truncated");
    at += rec.nickname_size;
    if (!need(2)) return fail(which() + ": connection count truncated");
    rec.connection_count = u16(base + at);
    at += 2;
    if (!need(rec.connection_count * kConnectionSize))
      return fail(which() + ": connections truncated");
    rec.connections_offset = at;
    const uint8_t* c = base + at;
    size_t last = 0;
    for (size_t i = 0; i < rec.connection_count; ++i, c += kConnectionSize) {
      const size_t index = u16(c);
      if (index >= view.name_count_) {
        return fail(which() + ": connection " + std::to_string(i) + " names index out of range");
      }
      if (i > 0 && index <= last) {
        return fail(which() + ": connections not in increasing name order at " + std::to_string(i));
      }
      if ((c[2] & ~3u) != 0) {
        return fail(which() + ": connection " + std::to_string(i) + " has unknown flags");
      }
      last = index;
    }
    at += rec.connection_count * kConnectionSize;
    view.records_.push_back(rec);
  }
  if (at != size) return fail(std::to_string(size - at) + " trailing bytes");
  return view;
}

TopologyUpdateWriter::TopologyUpdateWriter(const std::vector<PeerName>& names, size_t record_count,
                                           size_t size_hint) {
  assert(names.size() <= TopologyUpdateView::kMaxNames);
  assert(record_count <= 0xffff);
  out_.reserve(size_hint != 0 ? size_hint : 5 + names.size() * PeerName::kWireSize);
  out_.push_back(TopologyUpdateView::kFormat);
  put16(static_cast<uint16_t>(names.size()));
  for (PeerName n : names) {
    for (size_t i = PeerName::kWireSize; i-- > 0;)
      out_.push_back(static_cast<uint8_t>(n.value >> (8 * i)));
  }
  put16(static_cast<uint16_t>(record_count));
}

void TopologyUpdateWriter::put_header(const PeerSummary& summary, size_t name_index,
                                      size_t connection_count) {
  assert(connection_count <= 0xffff);
  put16(static_cast<uint16_t>(name_index));
  put64(summary.uid);
  put64(summary.version);
  uint16_t short_id = summary.short_id & ((1u << kShortIDBits) - 1);
  if (summary.has_short_id) short_id |= kHasShortIdBit;
  put16(short_id);
  const size_t nick = std::min<size_t>(summary.nickname.size(), 255);
  out_.push_back(static_cast<uint8_t>(nick));
  out_.insert(out_.end(), summary.nickname.begin(),
              summary.nickname.begin() + static_cast<ptrdiff_t>(nick));
  put16(static_cast<uint16_t>(connection_count));
}

}  // namespace loom::mesh
