#include "model/mesh/protocol.h"

#include <algorithm>
#include <cstring>

namespace loom::mesh {

namespace {

void put_u16(Bytes& out, size_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put_u32(Bytes& out, size_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_name(Bytes& out, PeerName name) {
  for (int shift = 40; shift >= 0; shift -= 8)
    out.push_back(static_cast<uint8_t>(name.value >> shift));
}

void put_string(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

// A bounds-checked cursor over outside bytes: every read says whether it fit.
class Reader {
 public:
  explicit Reader(ByteView bytes) : bytes_(bytes) {}
  size_t remaining() const { return bytes_.size() - at_; }
  bool u16(size_t& v) { return uint(2, v); }
  bool u32(size_t& v) { return uint(4, v); }
  bool name(PeerName& n) {
    size_t hi = 0, lo = 0;
    if (remaining() < PeerName::kWireSize) return false;
    uint(2, hi);
    uint(4, lo);
    n = PeerName((uint64_t{hi} << 32) | lo);
    return true;
  }
  bool bytes(size_t n, ByteView& out) {
    if (remaining() < n) return false;
    out = bytes_.subview(at_, n);
    at_ += n;
    return true;
  }

 private:
  bool uint(size_t n, size_t& v) {
    if (remaining() < n) return false;
    v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | bytes_[at_ + i];
    at_ += n;
    return true;
  }
  ByteView bytes_;
  size_t at_ = 0;
};

// Go's %v of a []byte: "[119 101 97 118 101]".
std::string go_bytes(ByteView bytes) {
  std::string out = "[";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out += ' ';
    out += std::to_string(bytes[i]);
  }
  return out + "]";
}

// Built by append: g++ 12 misreports "lit" + std::string&& (-Wrestrict).
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  out += s;
  out += '"';
  return out;
}

std::optional<uint64_t> parse_decimal(std::string_view s, uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

// Go's strconv.ParseBool.
std::optional<bool> parse_bool(std::string_view s) {
  for (std::string_view t : {"1", "t", "T", "TRUE", "true", "True"})
    if (s == t) return true;
  for (std::string_view f : {"0", "f", "F", "FALSE", "false", "False"})
    if (s == f) return false;
  return std::nullopt;
}

}  // namespace

// ---- Protocol header ----------------------------------------------------

std::array<uint8_t, kProtocolHeaderSize> ProtocolHeader::encode() const {
  std::array<uint8_t, kProtocolHeaderSize> out{};
  std::copy(kProtocolName.begin(), kProtocolName.end(), out.begin());
  out[5] = min_version;
  out[6] = max_version;
  return out;
}

Result<ProtocolHeader> ProtocolHeader::decode(ByteView bytes) {
  if (bytes.size() != kProtocolHeaderSize) {
    return make_error("received incomplete remote protocol header (" +
                      std::to_string(bytes.size()) + " octets instead of 7)");
  }
  if (bytes.subview(0, kProtocolName.size()).as_chars() != kProtocolName) {
    return make_error("remote protocol header not recognised: " +
                      go_bytes(bytes.subview(0, kProtocolName.size())));
  }
  ProtocolHeader header;
  header.min_version = bytes[5];
  header.max_version = bytes[6];
  return header;
}

Result<uint8_t> negotiate_version(const ProtocolHeader& ours, const ProtocolHeader& theirs) {
  const uint8_t lo = std::max(ours.min_version, theirs.min_version);
  const uint8_t hi = std::min(ours.max_version, theirs.max_version);
  if (lo > hi) {
    return make_error("remote version range [" + std::to_string(theirs.min_version) + "," +
                      std::to_string(theirs.max_version) + "] is incompatible with ours [" +
                      std::to_string(ours.min_version) + "," + std::to_string(ours.max_version) +
                      "]");
  }
  return hi;
}

// ---- Intro --------------------------------------------------------------

Bytes encode_encryption_intro(const std::optional<crypto::PublicKey>& public_key) {
  if (!public_key) return Bytes{kEncryptionOff};
  Bytes out{kEncryptionOn};
  out.insert(out.end(), public_key->begin(), public_key->end());
  return out;
}

// ---- Framing ------------------------------------------------------------

Result<Bytes> frame_message(ByteView body, size_t max_size) {
  if (body.size() > max_size) {
    return make_error("outgoing message exceeds maximum size: " + std::to_string(body.size()) +
                      " > " + std::to_string(max_size));
  }
  Bytes out;
  out.reserve(kLengthPrefixSize + body.size());
  put_u32(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void FrameReader::append(ByteView bytes) {
  if (error_) return;
  // Drop what was consumed before growing, so a long stream of small
  // messages does not keep its history (next() empties a buffer it has
  // read to the end).
  if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

Result<std::optional<Bytes>> FrameReader::next() {
  if (error_) return *error_;
  if (buffered() < kLengthPrefixSize) return std::optional<Bytes>{};
  size_t length = 0;
  for (size_t i = 0; i < kLengthPrefixSize; ++i) length = (length << 8) | buffer_[consumed_ + i];
  if (length > max_size_) {
    error_ = make_error("incoming message exceeds maximum size: " + std::to_string(length) + " > " +
                        std::to_string(max_size_));
    buffer_.clear();
    consumed_ = 0;
    return *error_;
  }
  if (buffered() < kLengthPrefixSize + length) return std::optional<Bytes>{};
  const auto begin = buffer_.begin() + static_cast<ptrdiff_t>(consumed_ + kLengthPrefixSize);
  Bytes body(begin, begin + static_cast<ptrdiff_t>(length));
  consumed_ += kLengthPrefixSize + length;
  if (consumed_ == buffer_.size()) {
    // All read. A big message (an IPAM state at a thousand peers is
    // megabytes; topology and IPAM gossip tens of KB) must not leave its
    // capacity behind for the rest of the connection's life.
    if (buffer_.capacity() > kKeptCapacity) {
      Bytes().swap(buffer_);
    } else {
      buffer_.clear();
    }
    consumed_ = 0;
  }
  return std::optional<Bytes>(std::move(body));
}

// ---- Features -----------------------------------------------------------

Result<Bytes> encode_features(const Features& features) {
  if (features.size() > 0xFFFF) return make_error("too many features");
  Bytes out;
  put_u16(out, features.size());
  for (const auto& [key, value] : features) {
    if (key.size() > 0xFFFF || value.size() > 0xFFFF) {
      return make_error("feature " + key.substr(0, 64) + " is longer than 65535 bytes");
    }
    put_u16(out, key.size());
    put_string(out, key);
    put_u16(out, value.size());
    put_string(out, value);
  }
  return out;
}

Result<Features> decode_features(ByteView bytes) {
  Reader in(bytes);
  size_t count = 0;
  if (!in.u16(count)) return make_error("features: truncated count");
  Features features;
  for (size_t i = 0; i < count; ++i) {
    size_t key_size = 0, value_size = 0;
    ByteView key, value;
    if (!in.u16(key_size) || !in.bytes(key_size, key)) {
      return make_error("features: entry " + std::to_string(i) + ": truncated key");
    }
    if (!in.u16(value_size) || !in.bytes(value_size, value)) {
      return make_error("features: entry " + std::to_string(i) + ": truncated value");
    }
    // Canonical: keys strictly ascending, so one map has one encoding.
    if (!features.empty() && key.as_chars() <= features.rbegin()->first) {
      if (key.as_chars() == features.rbegin()->first) {
        return make_error("features: duplicate key " + quoted(key.as_chars()));
      }
      return make_error("features: key " + quoted(key.as_chars().substr(0, 64)) + " out of order");
    }
    features.emplace_hint(features.end(), std::string(key.as_chars()), value.as_chars());
  }
  if (in.remaining() != 0) {
    return make_error("features: " + std::to_string(in.remaining()) + " trailing bytes");
  }
  return features;
}

Features make_features(const PeerFeatures& peer) {
  Features f;
  f["PeerNameFlavour"] = std::string(kPeerNameFlavour);
  f["Name"] = peer.name.to_string();
  f["NickName"] = peer.nickname;
  f["UID"] = std::to_string(peer.uid);
  f["ConnID"] = std::to_string(peer.conn_id);
  f["Trusted"] = peer.trusted ? "true" : "false";
  if (peer.short_id) f["ShortID"] = std::to_string(*peer.short_id);
  if (peer.overlays) f["Overlays"] = *peer.overlays;
  return f;
}

std::variant<PeerFeatures, FeaturesFailure> parse_features(const Features& f) {
  // Weave's MustHave order.
  for (std::string_view key : {"PeerNameFlavour", "Name", "NickName", "UID", "ConnID"}) {
    if (f.find(key) == f.end()) {
      return FeaturesFailure{FeaturesError::kMissingField,
                             "Field " + std::string(key) + " is missing"};
    }
  }
  const std::string& flavour = f.find("PeerNameFlavour")->second;
  if (flavour != kPeerNameFlavour) {
    return FeaturesFailure{FeaturesError::kFlavourMismatch, "Peer name flavour mismatch (ours: '" +
                                                                std::string(kPeerNameFlavour) +
                                                                "', theirs: '" + flavour + "')"};
  }
  auto bad = [](std::string_view key, std::string_view value) {
    return FeaturesFailure{
        FeaturesError::kBadValue,
        "feature " + std::string(key) + ": invalid value " + quoted(value.substr(0, 64))};
  };
  PeerFeatures peer;
  const std::string& name = f.find("Name")->second;
  auto parsed_name = PeerName::parse(name);
  if (!parsed_name) return bad("Name", name);
  peer.name = *parsed_name;
  peer.nickname = f.find("NickName")->second;
  if (auto it = f.find("ShortID"); it != f.end()) {
    auto v = parse_decimal(it->second, (uint64_t{1} << kShortIDBits) - 1);
    if (!v) return bad("ShortID", it->second);
    peer.short_id = static_cast<ShortID>(*v);
  }
  if (auto it = f.find("Trusted"); it != f.end()) {
    auto v = parse_bool(it->second);
    if (!v) return bad("Trusted", it->second);
    peer.trusted = *v;
  }
  const std::string& uid = f.find("UID")->second;
  auto parsed_uid = parse_decimal(uid, UINT64_MAX);
  if (!parsed_uid) return bad("UID", uid);
  peer.uid = *parsed_uid;
  const std::string& conn_id = f.find("ConnID")->second;
  auto parsed_conn = parse_decimal(conn_id, UINT64_MAX);
  if (!parsed_conn) return bad("ConnID", conn_id);
  peer.conn_id = *parsed_conn;
  if (auto it = f.find("Overlays"); it != f.end()) peer.overlays = it->second;
  return peer;
}

// ---- Protocol messages --------------------------------------------------

std::string_view tag_name(ProtocolTag tag) {
  switch (tag) {
    case ProtocolTag::kHeartbeat:
      return "ProtocolHeartbeat";
    case ProtocolTag::kReserved1:
      return "ProtocolReserved1";
    case ProtocolTag::kReserved2:
      return "ProtocolReserved2";
    case ProtocolTag::kReserved3:
      return "ProtocolReserved3";
    case ProtocolTag::kGossip:
      return "ProtocolGossip";
    case ProtocolTag::kGossipUnicast:
      return "ProtocolGossipUnicast";
    case ProtocolTag::kGossipBroadcast:
      return "ProtocolGossipBroadcast";
    case ProtocolTag::kOverlayControlMsg:
      return "ProtocolOverlayControlMsg";
  }
  return "unknown";
}

ProtocolTag gossip_tag(GossipMessage::Kind kind) {
  switch (kind) {
    case GossipMessage::Kind::unicast:
      return ProtocolTag::kGossipUnicast;
    case GossipMessage::Kind::broadcast:
      return ProtocolTag::kGossipBroadcast;
    case GossipMessage::Kind::gossip:
      break;
  }
  return ProtocolTag::kGossip;
}

Result<Bytes> encode_gossip(const GossipMessage& message) {
  if (message.channel.size() > 0xFFFF) return make_error("gossip channel name too long");
  if (message.payload.size() > kMaxTcpMessageSize) return make_error("gossip payload too long");
  Bytes out;
  out.reserve(2 + message.channel.size() + 12 + 4 + message.payload.size());
  put_u16(out, message.channel.size());
  put_string(out, message.channel);
  put_name(out, message.source);
  if (message.kind == GossipMessage::Kind::unicast) put_name(out, message.destination);
  put_u32(out, message.payload.size());
  out.insert(out.end(), message.payload.begin(), message.payload.end());
  return out;
}

Result<GossipMessage> decode_gossip(ProtocolTag tag, ByteView payload) {
  GossipMessage m;
  switch (tag) {
    case ProtocolTag::kGossip:
      m.kind = GossipMessage::Kind::gossip;
      break;
    case ProtocolTag::kGossipUnicast:
      m.kind = GossipMessage::Kind::unicast;
      break;
    case ProtocolTag::kGossipBroadcast:
      m.kind = GossipMessage::Kind::broadcast;
      break;
    default:
      return make_error("tag " + std::to_string(static_cast<unsigned>(tag)) +
                        " is not a gossip message");
  }
  auto what = [tag] { return std::string(tag_name(tag)); };  // on failure only
  Reader in(payload);
  size_t channel_size = 0, data_size = 0;
  ByteView channel, data;
  if (!in.u16(channel_size) || !in.bytes(channel_size, channel)) {
    return make_error(what() + ": truncated channel name");
  }
  m.channel = std::string(channel.as_chars());
  if (!in.name(m.source)) return make_error(what() + ": truncated source peer name");
  if (m.kind == GossipMessage::Kind::unicast && !in.name(m.destination)) {
    return make_error(what() + ": truncated destination peer name");
  }
  if (!in.u32(data_size)) return make_error(what() + ": truncated payload length");
  if (!in.bytes(data_size, data)) {
    return make_error(what() + ": payload of " + std::to_string(data_size) + " bytes but only " +
                      std::to_string(in.remaining()) + " follow");
  }
  if (in.remaining() != 0) {
    return make_error(what() + ": " + std::to_string(in.remaining()) + " trailing bytes");
  }
  m.payload = data.to_bytes();
  return m;
}

}  // namespace loom::mesh
