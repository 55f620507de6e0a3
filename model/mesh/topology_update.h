// TopologyUpdate: the wire form of a set of peer records (weave-protocol.md
// 1.4), in a compact binary format of Loom's own (Weave uses Go's gob).
//
// Layout (docs/mesh-topology.md, "Encoding"), integers little-endian:
//   u8  format (1)
//   u16 name count N, then N names of 6 bytes, strictly increasing, non-zero
//   u16 record count R, then R records:
//     u16 name index, u64 UID, u64 version,
//     u16 short ID (bit 15: has short ID; bits 12-14 zero),
//     u8 nickname length, nickname bytes,
//     u16 connection count C, then C connections of 9 bytes:
//       u16 remote name index (strictly increasing within a record),
//       u8 flags (bit 0 outbound, bit 1 established; others zero),
//       u32 remote IPv4, u16 remote port
// Names are interned in the table so a connection costs 9 bytes, and the
// receiver resolves each name once per message rather than once per
// connection.
//
// decode() validates everything in one pass without copying; records are
// read through the view, so a receiver can skip records it will not apply
// without building them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "model/address.h"
#include "model/bytes.h"
#include "model/mesh/peer_name.h"
#include "model/result.h"

namespace loom::mesh {

// One connection as a peer announces it.
struct PeerConnection {
  PeerName remote;
  Endpoint address;  // the remote's TCP address as this peer sees it
  bool outbound = false;
  bool established = false;

  friend bool operator==(const PeerConnection&, const PeerConnection&) = default;
};

// A peer's identity fields, as gossiped (Weave's peerSummary).
struct PeerSummary {
  PeerName name;
  std::string_view nickname;
  PeerUID uid = 0;
  uint64_t version = 0;
  ShortID short_id = 0;
  bool has_short_id = false;
};

// A validated update, viewing the bytes it was decoded from (which must
// outlive it).
class TopologyUpdateView {
 public:
  static constexpr uint8_t kFormat = 1;
  static constexpr size_t kMaxNames = 0xffff;
  static constexpr size_t kConnectionSize = 9;

  static Result<TopologyUpdateView> decode(ByteView bytes);

  // The interned names, sorted.
  size_t name_count() const { return name_count_; }
  PeerName name(size_t index) const;

  size_t record_count() const { return records_.size(); }
  PeerSummary summary(size_t record) const;
  size_t record_name_index(size_t record) const;
  size_t connection_count(size_t record) const { return records_[record].connection_count; }
  // Calls fn(remote name index, PeerConnection) for each connection of a
  // record, in increasing name order.
  template <typename Fn>
  void for_each_connection(size_t record, Fn&& fn) const;

 private:
  struct Record {
    size_t offset = 0;  // of the record's name index
    size_t nickname_size = 0;
    size_t connections_offset = 0;
    size_t connection_count = 0;
  };
  const uint8_t* data_ = nullptr;
  size_t name_count_ = 0;
  std::vector<Record> records_;

  static uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
  static uint32_t u32(const uint8_t* p) {
    return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  }
};

template <typename Fn>
void TopologyUpdateView::for_each_connection(size_t record, Fn&& fn) const {
  const Record& r = records_[record];
  const uint8_t* p = data_ + r.connections_offset;
  for (size_t i = 0; i < r.connection_count; ++i, p += kConnectionSize) {
    const size_t index = u16(p);
    PeerConnection c;
    c.remote = name(index);
    c.outbound = (p[2] & 1) != 0;
    c.established = (p[2] & 2) != 0;
    c.address = Endpoint{Ipv4(u32(p + 3)), u16(p + 7)};
    fn(index, c);
  }
}

// Writes an update. Usage: add every name first (names()), then records.
class TopologyUpdateWriter {
 public:
  // names: sorted, unique, non-zero, at most kMaxNames.
  explicit TopologyUpdateWriter(const std::vector<PeerName>& names, size_t record_count,
                                size_t size_hint = 0);
  // Appends a record; connections sorted by remote, each remote in names.
  // index_of maps a name to its index in names.
  template <typename IndexOf>
  void add(const PeerSummary& summary, const std::vector<PeerConnection>& connections,
           IndexOf&& index_of);
  Bytes finish() && { return std::move(out_); }

 private:
  void put16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v));
    out_.push_back(static_cast<uint8_t>(v >> 8));
  }
  void put32(uint32_t v) {
    put16(static_cast<uint16_t>(v));
    put16(static_cast<uint16_t>(v >> 16));
  }
  void put64(uint64_t v) {
    put32(static_cast<uint32_t>(v));
    put32(static_cast<uint32_t>(v >> 32));
  }
  void put_header(const PeerSummary& summary, size_t name_index, size_t connection_count);
  Bytes out_;
};

template <typename IndexOf>
void TopologyUpdateWriter::add(const PeerSummary& summary,
                               const std::vector<PeerConnection>& connections, IndexOf&& index_of) {
  put_header(summary, index_of(summary.name), connections.size());
  const size_t start = out_.size();
  out_.resize(start + connections.size() * TopologyUpdateView::kConnectionSize);
  uint8_t* p = out_.data() + start;
  for (const PeerConnection& c : connections) {
    const size_t index = index_of(c.remote);
    const uint32_t ip = c.address.addr.value;
    p[0] = static_cast<uint8_t>(index);
    p[1] = static_cast<uint8_t>(index >> 8);
    p[2] = static_cast<uint8_t>((c.outbound ? 1 : 0) | (c.established ? 2 : 0));
    p[3] = static_cast<uint8_t>(ip);
    p[4] = static_cast<uint8_t>(ip >> 8);
    p[5] = static_cast<uint8_t>(ip >> 16);
    p[6] = static_cast<uint8_t>(ip >> 24);
    p[7] = static_cast<uint8_t>(c.address.port);
    p[8] = static_cast<uint8_t>(c.address.port >> 8);
    p += TopologyUpdateView::kConnectionSize;
  }
}

}  // namespace loom::mesh
