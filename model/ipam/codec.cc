#include "model/ipam/codec.h"

#include <algorithm>
#include <cassert>
#include <unordered_map>

namespace loom::ipam {
namespace {

constexpr size_t kNameSize = PeerName::kWireSize;
constexpr size_t kEntrySize = 4 + 2 + 4 + 4;
constexpr size_t kNodeIdSize = kNameSize + 8;
constexpr size_t kProposalSize = 8 + kNodeIdSize;
constexpr size_t kClaimsMinSize = kNodeIdSize + 3 * kProposalSize + 2;
constexpr uint8_t kHasPaxos = 1;
constexpr uint8_t kHasRing = 2;

class Writer {
 public:
  explicit Writer(size_t reserve) { out_.reserve(reserve); }
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { put(v, 2); }
  void u32(uint32_t v) { put(v, 4); }
  void u64(uint64_t v) { put(v, 8); }
  void name(PeerName n) {
    for (size_t i = kNameSize; i-- > 0;) out_.push_back(static_cast<uint8_t>(n.value >> (8 * i)));
  }
  void bytes(ByteView b) { out_.insert(out_.end(), b.begin(), b.end()); }
  Bytes take() { return std::move(out_); }

 private:
  void put(uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  Bytes out_;
};

// A field's name for an error message, spelt only when a read fails (they
// are built for every field of every message otherwise, and a 1,000-peer
// Paxos state has tens of thousands). A chain: Field(Field("node", 3),
// "promise") reads "node 3 promise".
class Field {
 public:
  Field(const char* text) : text_(text) {}  // NOLINT(google-explicit-constructor)
  Field(const char* text, size_t index) : text_(text), index_(index), indexed_(true) {}
  Field(const Field& parent, const char* text) : parent_(&parent), text_(text) {}

  std::string str() const {
    std::string s;
    if (parent_) s.append(parent_->str()).append(" ");
    s.append(text_);
    if (indexed_) s.append(" ").append(std::to_string(index_));
    return s;
  }

 private:
  const Field* parent_ = nullptr;
  const char* text_;
  size_t index_ = 0;
  bool indexed_ = false;
};

// Reads fields in order; the first field that does not fit records an
// error naming it, and every later read returns zeros.
class Reader {
 public:
  Reader(ByteView bytes, std::string codec) : b_(bytes), codec_(std::move(codec)) {}

  bool failed() const { return failed_; }
  size_t left() const { return b_.size() - at_; }
  Error error() const { return make_error(codec_ + ": " + why_); }
  void fail(const std::string& why) {
    if (!failed_) why_ = why;
    failed_ = true;
  }

  uint8_t u8(const Field& field) { return static_cast<uint8_t>(get(1, field)); }
  uint16_t u16(const Field& field) { return static_cast<uint16_t>(get(2, field)); }
  uint32_t u32(const Field& field) { return static_cast<uint32_t>(get(4, field)); }
  uint64_t u64(const Field& field) { return get(8, field); }
  PeerName name(const Field& field) {
    if (!need(kNameSize, field)) return PeerName();
    uint64_t v = 0;
    for (size_t i = 0; i < kNameSize; ++i) v = (v << 8) | b_[at_ + i];
    at_ += kNameSize;
    return PeerName(v);
  }
  ByteView view(size_t n, const Field& field) {
    if (!need(n, field)) return {};
    const ByteView v = b_.subview(at_, n);
    at_ += n;
    return v;
  }
  // A count of items of at least min_size bytes each: refuse one that the
  // bytes left cannot hold before anything is reserved for it.
  bool plausible(size_t count, size_t min_size, const Field& field) {
    if (failed_) return false;
    if (count > left() / min_size) {
      fail(field.str() + " count " + std::to_string(count) + " exceeds the " +
           std::to_string(left()) + " bytes left");
      return false;
    }
    return true;
  }
  Result<void> finish() {
    if (!failed_ && left() != 0) fail(std::to_string(left()) + " trailing bytes");
    if (failed_) return error();
    return {};
  }

 private:
  bool need(size_t n, const Field& field) {
    if (failed_) return false;
    if (left() < n) {
      fail("truncated " + field.str());
      return false;
    }
    return true;
  }
  uint64_t get(size_t n, const Field& field) {
    if (!need(n, field)) return 0;
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | b_[at_ + i];
    at_ += n;
    return v;
  }

  ByteView b_;
  std::string codec_;
  size_t at_ = 0;
  bool failed_ = false;
  std::string why_;
};

void write_node(Writer& w, const paxos::NodeID& id) {
  w.name(id.name);
  w.u64(id.uid);
}

void write_proposal(Writer& w, const paxos::ProposalID& p) {
  w.u64(p.round);
  write_node(w, p.proposer);
}

paxos::NodeID read_node(Reader& r, const Field& field) {
  paxos::NodeID id;
  id.name = r.name(Field(field, "name"));
  id.uid = r.u64(Field(field, "UID"));
  return id;
}

paxos::ProposalID read_proposal(Reader& r, const Field& field) {
  paxos::ProposalID p;
  p.round = r.u64(Field(field, "round"));
  p.proposer = read_node(r, Field(field, "proposer"));
  return p;
}

}  // namespace

Bytes encode_ring(const Ring& ring) {
  const std::vector<PeerName> owners = ring.peer_names();
  assert(owners.size() <= 0xffff && ring.seeds().size() <= 0xffff);
  assert(ring.entries().size() <= 0xffffffff);
  std::unordered_map<uint64_t, uint16_t> index;
  index.reserve(owners.size());
  for (size_t i = 0; i < owners.size(); ++i) index.emplace(owners[i].value, i);

  Writer w(1 + 8 + kNameSize + 2 + ring.seeds().size() * kNameSize + 2 + owners.size() * kNameSize +
           4);
  w.u8(kCodecFormat);
  w.u32(ring.universe().start);
  w.u32(ring.universe().end);
  w.name(ring.us());
  w.u16(static_cast<uint16_t>(ring.seeds().size()));
  for (PeerName s : ring.seeds()) w.name(s);
  w.u16(static_cast<uint16_t>(owners.size()));
  for (PeerName o : owners) w.name(o);
  w.u32(static_cast<uint32_t>(ring.entries().size()));
  // The bulk: fixed-size records written in place.
  Bytes out = w.take();
  const size_t head = out.size();
  out.resize(head + ring.entries().size() * kEntrySize);
  uint8_t* p = out.data() + head;
  auto put = [&p](uint32_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) *p++ = static_cast<uint8_t>(v >> (8 * i));
  };
  for (const Entry& e : ring.entries()) {
    put(e.token, 4);
    put(index.find(e.peer.value)->second, 2);
    put(e.version, 4);
    put(e.free, 4);
  }
  return out;
}

Result<Ring> decode_ring(ByteView bytes) {
  Reader r(bytes, "ipam ring");
  const uint8_t format = r.u8("format");
  if (!r.failed() && format != kCodecFormat) r.fail("unknown format " + std::to_string(format));
  const Range universe{r.u32("universe start"), r.u32("universe end")};
  if (!r.failed() && universe.start >= universe.end) {
    r.fail("empty universe " + format_address(universe.start) + "-" + format_address(universe.end));
  }
  const PeerName holder = r.name("holder name");

  const uint16_t seed_count = r.u16("seed count");
  std::vector<PeerName> seeds;
  if (r.plausible(seed_count, kNameSize, "seed")) seeds.reserve(seed_count);
  for (size_t i = 0; i < seed_count && !r.failed(); ++i) {
    seeds.push_back(r.name(Field("seed", i)));
    if (!r.failed() && seeds.back().is_unknown()) {
      r.fail("seed " + std::to_string(i) + " is the unknown peer name");
    }
  }

  const uint16_t owner_count = r.u16("owner count");
  std::vector<PeerName> owners;
  if (r.plausible(owner_count, kNameSize, "owner")) owners.reserve(owner_count);
  for (size_t i = 0; i < owner_count && !r.failed(); ++i) {
    owners.push_back(r.name(Field("owner", i)));
    if (r.failed()) break;
    if (owners.back().is_unknown())
      r.fail("owner " + std::to_string(i) + " is the unknown peer name");
    if (i > 0 && owners[i] <= owners[i - 1]) {
      r.fail("owner names not strictly increasing at " + std::to_string(i));
    }
  }

  const uint32_t entry_count = r.u32("entry count");
  std::vector<Entry> entries;
  if (r.plausible(entry_count, kEntrySize, "entry")) entries.reserve(entry_count);
  // The entries are the bulk of a ring: read them straight from one
  // length-checked block, building an error text only on failure.
  const ByteView block = r.view(size_t{entry_count} * kEntrySize, "entries");
  for (size_t i = 0; i < entry_count && !r.failed(); ++i) {
    const uint8_t* p = block.data() + i * kEntrySize;
    auto le = [p](size_t at, size_t n) {
      uint32_t v = 0;
      for (size_t k = n; k-- > 0;) v = (v << 8) | p[at + k];
      return v;
    };
    const uint32_t owner = le(4, 2);
    if (owner >= owners.size()) {
      r.fail("entry " + std::to_string(i) + ": owner index " + std::to_string(owner) +
             " out of range");
      break;
    }
    entries.push_back(Entry{le(0, 4), owners[owner], le(6, 4), le(10, 4)});
  }
  if (auto done = r.finish(); !done) return done.error();

  Ring ring = Ring::from_parts(universe, holder, std::move(entries), std::move(seeds));
  if (auto ok = ring.check_invariants(); !ok) {
    return make_error("ipam ring: " + ok.error().message);
  }
  return ring;
}

Bytes encode_paxos(const paxos::GossipState& state) {
  assert(state.size() <= 0xffff);
  Writer w(3 + state.size() * (kClaimsMinSize + 8 * kNameSize));
  w.u8(kCodecFormat);
  w.u16(static_cast<uint16_t>(state.size()));
  for (const auto& [node, claims] : state) {
    assert(claims.accepted_value.value.size() <= 0xffff);
    write_node(w, node);
    write_proposal(w, claims.promise);
    write_proposal(w, claims.accepted);
    write_proposal(w, claims.accepted_value.origin);
    w.u16(static_cast<uint16_t>(claims.accepted_value.value.size()));
    for (PeerName n : claims.accepted_value.value) w.name(n);
  }
  return w.take();
}

Result<paxos::GossipState> decode_paxos(ByteView bytes) {
  Reader r(bytes, "ipam paxos");
  const uint8_t format = r.u8("format");
  if (!r.failed() && format != kCodecFormat) r.fail("unknown format " + std::to_string(format));
  const uint16_t count = r.u16("node count");
  paxos::GossipState state;
  if (r.plausible(count, kClaimsMinSize, "node")) state.reserve(count);
  for (size_t i = 0; i < count && !r.failed(); ++i) {
    const Field which("node", i);
    const paxos::NodeID id = read_node(r, which);
    paxos::NodeClaims claims;
    claims.promise = read_proposal(r, Field(which, "promise"));
    claims.accepted = read_proposal(r, Field(which, "accepted"));
    claims.accepted_value.origin = read_proposal(r, Field(which, "value origin"));
    const uint16_t value_count = r.u16("value count");
    if (r.plausible(value_count, kNameSize, Field(which, "value"))) {
      claims.accepted_value.value.reserve(value_count);
    }
    for (size_t k = 0; k < value_count && !r.failed(); ++k) {
      claims.accepted_value.value.push_back(r.name(Field(which, "value name")));
      if (!r.failed() && claims.accepted_value.value.back().is_unknown()) {
        r.fail(which.str() + ": value name " + std::to_string(k) + " is the unknown peer name");
      }
    }
    if (r.failed()) break;
    if (id.name.is_unknown()) {
      r.fail(which.str() + " is the unknown peer name");
      break;
    }
    if (!state.empty() && !(state.rbegin()->first < id)) {
      r.fail(which.str() + ": nodes not in strictly increasing order");
      break;
    }
    state.emplace_hint(state.end(), id, std::move(claims));
  }
  if (auto done = r.finish(); !done) return done.error();
  return state;
}

Bytes encode_gossip(const IpamGossip& gossip) {
  return encode_gossip(gossip.nicknames, gossip.paxos.empty() ? nullptr : &gossip.paxos,
                       gossip.ring ? &*gossip.ring : nullptr);
}

Bytes encode_gossip(const Nicknames& nicknames, const paxos::GossipState* paxos_state,
                    const Ring* ring_state) {
  if (paxos_state && paxos_state->empty()) paxos_state = nullptr;
  const Bytes paxos = paxos_state ? encode_paxos(*paxos_state) : Bytes();
  const Bytes ring = ring_state ? encode_ring(*ring_state) : Bytes();
  size_t size = 4 + paxos.size() + ring.size() + 8;
  for (const auto& [name, nick] : nicknames) size += kNameSize + 1 + nick.size();
  assert(nicknames.size() <= 0xffff);
  Writer w(size);
  w.u8(kCodecFormat);
  w.u8(static_cast<uint8_t>((paxos_state ? kHasPaxos : 0) | (ring_state ? kHasRing : 0)));
  w.u16(static_cast<uint16_t>(nicknames.size()));
  for (const auto& [name, nick] : nicknames) {
    const size_t len = std::min<size_t>(nick.size(), 255);
    w.name(name);
    w.u8(static_cast<uint8_t>(len));
    w.bytes(ByteView(std::string_view(nick).substr(0, len)));
  }
  if (paxos_state) {
    w.u32(static_cast<uint32_t>(paxos.size()));
    w.bytes(paxos);
  }
  if (ring_state) {
    w.u32(static_cast<uint32_t>(ring.size()));
    w.bytes(ring);
  }
  return w.take();
}

Result<IpamGossip> decode_gossip(ByteView bytes) {
  Reader r(bytes, "ipam gossip");
  const uint8_t format = r.u8("format");
  if (!r.failed() && format != kCodecFormat) r.fail("unknown format " + std::to_string(format));
  const uint8_t flags = r.u8("flags");
  if (!r.failed() && (flags & ~(kHasPaxos | kHasRing)) != 0) {
    r.fail("unknown flags " + std::to_string(flags));
  }
  IpamGossip gossip;
  const uint16_t nick_count = r.u16("nickname count");
  if (r.plausible(nick_count, kNameSize + 1, "nickname")) gossip.nicknames.reserve(nick_count);
  for (size_t i = 0; i < nick_count && !r.failed(); ++i) {
    const Field which("nickname", i);
    const PeerName name = r.name(Field(which, "peer name"));
    const uint8_t len = r.u8("nickname length");
    const ByteView nick = r.view(len, which);
    if (r.failed()) break;
    if (name.is_unknown()) {
      r.fail(which.str() + " is for the unknown peer name");
      break;
    }
    if (!gossip.nicknames.empty() && !(gossip.nicknames.rbegin()->first < name)) {
      r.fail(which.str() + ": names not in strictly increasing order");
      break;
    }
    gossip.nicknames.emplace_hint(gossip.nicknames.end(), name, std::string(nick.as_chars()));
  }
  ByteView paxos_bytes;
  ByteView ring_bytes;
  if ((flags & kHasPaxos) != 0) paxos_bytes = r.view(r.u32("paxos length"), "paxos state");
  if ((flags & kHasRing) != 0) ring_bytes = r.view(r.u32("ring length"), "ring");
  if (auto done = r.finish(); !done) return done.error();

  if ((flags & kHasPaxos) != 0) {
    Result<paxos::GossipState> paxos = decode_paxos(paxos_bytes);
    if (!paxos) return make_error("ipam gossip: " + paxos.error().message);
    if (paxos->empty()) return make_error("ipam gossip: paxos state present but empty");
    gossip.paxos = std::move(*paxos);
  }
  if ((flags & kHasRing) != 0) {
    Result<Ring> ring = decode_ring(ring_bytes);
    if (!ring) return make_error("ipam gossip: " + ring.error().message);
    gossip.ring = std::move(*ring);
  }
  return gossip;
}

Bytes encode_range(const Range& range) {
  Writer w(8);
  w.u32(range.start);
  w.u32(range.end);
  return w.take();
}

Result<Range> decode_range(ByteView bytes) {
  Reader r(bytes, "ipam range");
  const Range range{r.u32("start"), r.u32("end")};
  if (auto done = r.finish(); !done) return done.error();
  if (range.start >= range.end) return make_error("ipam range: empty range " + range.to_string());
  return range;
}

}  // namespace loom::ipam
