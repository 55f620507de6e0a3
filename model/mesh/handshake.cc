#include "model/mesh/handshake.h"

#include <algorithm>
#include <string>
#include <utility>

namespace loom::mesh {

// ---- MessageChannel -----------------------------------------------------

MessageChannel::MessageChannel(const std::optional<crypto::SessionKey>& key, bool outbound,
                               size_t max_size)
    : max_size_(max_size), reader_(max_size) {
  if (key) {
    sender_.emplace(*key, outbound);
    receiver_.emplace(*key, outbound);
  }
}

Result<Bytes> MessageChannel::encode_body(ByteView body) {
  if (!sender_) return frame_message(body, max_size_);
  if (body.size() + crypto::kSecretboxOverhead > max_size_) {
    // Checked before sealing, so a refused message does not use a sequence
    // number the other end would then wait for.
    return frame_message(Bytes(body.size() + crypto::kSecretboxOverhead), max_size_);
  }
  return frame_message(sender_->seal(body), max_size_);
}

Result<Bytes> MessageChannel::encode(ProtocolTag tag, ByteView payload) {
  if (!sender_) {
    // Plaintext: frame it in place (what frame_message does, one copy less).
    const size_t size = 1 + payload.size();
    if (size > max_size_) {
      return make_error("outgoing message exceeds maximum size: " + std::to_string(size) + " > " +
                        std::to_string(max_size_));
    }
    Bytes out(kLengthPrefixSize + size);
    for (size_t i = 0; i < kLengthPrefixSize; ++i) {
      out[i] = static_cast<uint8_t>(size >> (8 * (kLengthPrefixSize - 1 - i)));
    }
    out[kLengthPrefixSize] = static_cast<uint8_t>(tag);
    std::copy(payload.begin(), payload.end(), out.begin() + kLengthPrefixSize + 1);
    return out;
  }
  Bytes body;
  body.reserve(1 + payload.size());
  body.push_back(static_cast<uint8_t>(tag));
  body.insert(body.end(), payload.begin(), payload.end());
  return encode_body(body);
}

Result<std::vector<ProtocolMessage>> MessageChannel::feed(ByteView bytes) {
  if (error_) return *error_;
  reader_.append(bytes);
  std::vector<ProtocolMessage> messages;
  for (;;) {
    auto next = reader_.next();
    if (!next) {
      error_ = next.error();
      return *error_;
    }
    if (!next->has_value()) break;
    Bytes body = std::move(**next);
    if (receiver_) {
      auto opened = receiver_->open(body);
      if (!opened) {
        error_ = opened.error();
        return *error_;
      }
      body = std::move(*opened);
    }
    if (body.empty()) continue;  // Weave: "ignoring blank msg"
    ProtocolMessage m;
    m.tag = static_cast<ProtocolTag>(body[0]);
    body.erase(body.begin());  // in place: no second buffer
    m.payload = std::move(body);
    messages.push_back(std::move(m));
  }
  return messages;
}

// ---- Handshake ----------------------------------------------------------

std::string_view to_string(HandshakeFailure failure) {
  switch (failure) {
    case HandshakeFailure::kBadHeader:
      return "bad protocol header";
    case HandshakeFailure::kVersionMismatch:
      return "version mismatch";
    case HandshakeFailure::kUnsupportedVersion:
      return "unsupported version";
    case HandshakeFailure::kBadEncryptionFlag:
      return "bad encryption flag";
    case HandshakeFailure::kEncryptionExpected:
      return "encryption expected";
    case HandshakeFailure::kEncryptionUnexpected:
      return "encryption unexpected";
    case HandshakeFailure::kBadPublicKey:
      return "bad public key";
    case HandshakeFailure::kMessageTooLong:
      return "message too long";
    case HandshakeFailure::kDecryptFailed:
      return "decrypt failed";
    case HandshakeFailure::kBadFeatures:
      return "bad features";
    case HandshakeFailure::kMissingFeature:
      return "missing feature";
    case HandshakeFailure::kFlavourMismatch:
      return "flavour mismatch";
    case HandshakeFailure::kConnectToSelf:
      return "connect to self";
    case HandshakeFailure::kNameCollision:
      return "name collision";
  }
  return "unknown";
}

Handshake::Handshake(HandshakeConfig config, Random& random)
    : config_(std::move(config)), conn_id_(random.next()) {
  if (config_.password && config_.password->empty()) config_.password.reset();
  if (config_.password) keys_ = crypto::KeyPair::generate(random);
  const auto header = ProtocolHeader{config_.min_version, config_.max_version}.encode();
  output_.assign(header.begin(), header.end());
}

Bytes Handshake::take_output() { return std::exchange(output_, Bytes{}); }

MessageChannel Handshake::take_channel() {
  MessageChannel channel = std::move(*channel_);
  channel_.reset();
  return channel;
}

Handshake::Status Handshake::feed(ByteView bytes) {
  if (status_ != Status::kInProgress) return status_;
  if (stage_ == Stage::kFeatures) {
    channel_->reader_.append(bytes);
  } else {
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
  }
  step();
  return status_;
}

void Handshake::step() {
  // Each reader returns true when it consumed its part and the next may run.
  while (status_ == Status::kInProgress) {
    bool advanced = false;
    switch (stage_) {
      case Stage::kHeader:
        advanced = read_header();
        break;
      case Stage::kIntro:
        advanced = read_intro();
        break;
      case Stage::kFeatures:
        advanced = read_features();
        break;
      case Stage::kDone:
        return;
    }
    if (!advanced) return;
  }
}

bool Handshake::fail(HandshakeFailure kind, std::string reason) {
  status_ = Status::kFailed;
  stage_ = Stage::kDone;
  error_ = HandshakeError{kind, std::move(reason)};
  pending_.clear();
  channel_.reset();
  return false;
}

bool Handshake::read_header() {
  if (pending_.size() < kProtocolHeaderSize) return false;
  auto theirs = ProtocolHeader::decode(ByteView(pending_).subview(0, kProtocolHeaderSize));
  if (!theirs) return fail(HandshakeFailure::kBadHeader, theirs.error().message);
  pending_.erase(pending_.begin(), pending_.begin() + kProtocolHeaderSize);
  auto version = negotiate_version({config_.min_version, config_.max_version}, *theirs);
  if (!version) return fail(HandshakeFailure::kVersionMismatch, version.error().message);
  if (*version != 2) {
    return fail(HandshakeFailure::kUnsupportedVersion,
                "protocol version " + std::to_string(*version) +
                    " negotiated, but Loom speaks only version 2 (version 1's gob "
                    "stream is not implemented)");
  }
  version_ = *version;
  std::optional<crypto::PublicKey> public_key;
  if (keys_) public_key = keys_->public_key;
  const Bytes intro = encode_encryption_intro(public_key);
  output_.insert(output_.end(), intro.begin(), intro.end());
  stage_ = Stage::kIntro;
  return true;
}

bool Handshake::read_intro() {
  if (pending_.empty()) return false;
  const uint8_t flag = pending_[0];
  size_t used = 1;
  if (flag == kEncryptionOff) {
    // Weave's words, its spelling included.
    if (keys_) {
      return fail(HandshakeFailure::kEncryptionExpected,
                  "password specified, but peer requested an unencrypted connection");
    }
  } else if (flag == kEncryptionOn) {
    if (!keys_) {
      return fail(HandshakeFailure::kEncryptionUnexpected,
                  "no password specificed, but peer requested an encrypted connection");
    }
    used += crypto::kPublicKeySize;
    if (pending_.size() < used) return false;
    crypto::PublicKey remote{};
    std::copy(pending_.begin() + 1, pending_.begin() + static_cast<ptrdiff_t>(used),
              remote.begin());
    auto key = crypto::derive_session_key(remote, keys_->secret_key,
                                          ByteView(std::string_view(*config_.password)));
    if (!key) return fail(HandshakeFailure::kBadPublicKey, key.error().message);
    session_key_ = *key;
  } else {
    return fail(HandshakeFailure::kBadEncryptionFlag,
                "Bad encryption flag " + std::to_string(flag));
  }
  channel_.emplace(session_key_, config_.outbound);
  PeerFeatures ours;
  ours.name = config_.name;
  ours.nickname = config_.nickname;
  ours.uid = config_.uid;
  ours.short_id = config_.short_id;
  ours.conn_id = conn_id_;
  ours.trusted = config_.trust_remote;
  ours.overlays = config_.overlays;
  auto encoded = encode_features(make_features(ours));
  if (!encoded) return fail(HandshakeFailure::kBadFeatures, encoded.error().message);
  auto framed = channel_->encode_body(*encoded);
  if (!framed) return fail(HandshakeFailure::kBadFeatures, framed.error().message);
  output_.insert(output_.end(), framed->begin(), framed->end());
  // Whatever followed the intro is the start of the message stream.
  channel_->reader_.append(ByteView(pending_).subview(used));
  pending_.clear();
  pending_.shrink_to_fit();
  stage_ = Stage::kFeatures;
  return true;
}

bool Handshake::read_features() {
  auto next = channel_->reader_.next();
  if (!next) return fail(HandshakeFailure::kMessageTooLong, next.error().message);
  if (!next->has_value()) return false;
  Bytes body = std::move(**next);
  if (channel_->receiver_) {
    auto opened = channel_->receiver_->open(body);
    if (!opened) return fail(HandshakeFailure::kDecryptFailed, opened.error().message);
    body = std::move(*opened);
  }
  auto features = decode_features(body);
  if (!features) return fail(HandshakeFailure::kBadFeatures, features.error().message);
  auto parsed = parse_features(*features);
  if (auto* failure = std::get_if<FeaturesFailure>(&parsed)) {
    switch (failure->kind) {
      case FeaturesError::kMissingField:
        return fail(HandshakeFailure::kMissingFeature, failure->message);
      case FeaturesError::kFlavourMismatch:
        return fail(HandshakeFailure::kFlavourMismatch, failure->message);
      case FeaturesError::kBadValue:
        break;
    }
    return fail(HandshakeFailure::kBadFeatures, failure->message);
  }
  PeerFeatures remote = std::get<PeerFeatures>(std::move(parsed));
  // registerRemote's checks, in Weave's order.
  if (remote.name == config_.name) {
    if (remote.uid != config_.uid) {
      return fail(HandshakeFailure::kNameCollision,
                  "local \"" + config_.name.to_string() + "(" + config_.nickname +
                      ")\" and remote \"" + remote.name.to_string() + "(" + remote.nickname +
                      ")\" peer names collision");
    }
    return fail(HandshakeFailure::kConnectToSelf, "cannot connect to ourself");
  }
  HandshakeResult result;
  result.connection_uid = conn_id_ ^ remote.conn_id;
  result.remote = std::move(remote);
  result.features = std::move(*features);
  result.version = version_;
  result.local_conn_id = conn_id_;
  result.session_key = session_key_;
  result_ = std::move(result);
  status_ = Status::kSucceeded;
  stage_ = Stage::kDone;
  return false;
}

}  // namespace loom::mesh
