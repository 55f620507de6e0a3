// The handshake of one mesh TCP connection, sans-IO (mesh:protocol.go
// DoIntro, mesh:connection.go parseFeatures/registerRemote;
// weave-protocol.md 1.2).
//
// Feed it the bytes that arrive, in chunks of any size; send what
// take_output() returns. Both ends speak at once:
//   1. the 7-byte header (at construction), then version negotiation;
//   2. the encryption flag (+ ephemeral public key when a password is set);
//   3. the features map, as the first framed (and sealed) message.
// It ends in success (the remote's identity, the connection UID, the
// session key and a MessageChannel for everything after) or in a failure
// whose kind says which of Weave's reasons it was. Timeouts are the
// connection's business (kHandshakeTimeout in protocol.h, with Host timers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/bytes.h"
#include "model/crypto/secretbox.h"
#include "model/crypto/session_key.h"
#include "model/mesh/peer_name.h"
#include "model/mesh/protocol.h"
#include "model/random.h"
#include "model/result.h"

namespace loom::mesh {

// Framed, optionally sealed messages after a successful handshake. Sealing
// numbers messages per direction (crypto/secretbox.h): encode() in the order
// the bytes are written, feed() bytes in the order they arrived.
class MessageChannel {
 public:
  // key: the session key, or none for a plaintext connection. outbound:
  // whether we dialled.
  MessageChannel(const std::optional<crypto::SessionKey>& key, bool outbound,
                 size_t max_size = kMaxTcpMessageSize);

  bool encrypted() const { return sender_.has_value(); }

  // Length prefix + (sealed) tag + payload: write it with one Stream::write.
  // Fails only when the message would exceed the maximum size.
  Result<Bytes> encode(ProtocolTag tag, ByteView payload);
  // The messages completed by these bytes (possibly none). Empty bodies are
  // skipped, as Weave does. An over-long length, a body that does not open
  // (tampered, replayed, reordered) or an empty sealed message is an error,
  // after which the channel is dead: the connection must close, and every
  // later call returns the same error. Bytes held from the handshake are
  // parsed on the first call, so call feed({}) once after taking the channel.
  Result<std::vector<ProtocolMessage>> feed(ByteView bytes);

  // One raw body (the handshake's features message): framed and sealed.
  Result<Bytes> encode_body(ByteView body);

 private:
  friend class Handshake;
  size_t max_size_;
  FrameReader reader_;
  std::optional<crypto::SecretboxSender> sender_;
  std::optional<crypto::SecretboxReceiver> receiver_;
  std::optional<Error> error_;
};

// Who we are on this connection.
struct HandshakeConfig {
  PeerName name;
  std::string nickname;
  PeerUID uid = 0;
  std::optional<ShortID> short_id;
  // Encryption is on when set and non-empty (weaver ignores an empty
  // --password).
  std::optional<std::string> password;
  std::optional<std::string> overlays;  // "fastdp sleeve"; not sent when absent
  bool trust_remote = false;            // sent as Trusted
  bool outbound = false;                // we dialled
  uint8_t min_version = kProtocolMinVersion;
  uint8_t max_version = kProtocolMaxVersion;
};

enum class HandshakeFailure {
  kBadHeader,             // not "weave": something else is talking
  kVersionMismatch,       // ranges do not overlap
  kUnsupportedVersion,    // version 1 (gob stream) negotiated: Loom speaks 2 only
  kBadEncryptionFlag,     // flag neither 0 nor 1
  kEncryptionExpected,    // we have a password, they do not
  kEncryptionUnexpected,  // they have a password, we do not
  kBadPublicKey,          // a low-order Curve25519 key
  kMessageTooLong,        // length prefix over 10 MiB
  kDecryptFailed,         // the features message does not open: wrong password
  kBadFeatures,           // the features map does not decode, or a bad value
  kMissingFeature,        // a required key is absent
  kFlavourMismatch,       // PeerNameFlavour is not "mac"
  kConnectToSelf,         // our name and our UID: never retry
  kNameCollision,         // our name, another UID: never retry
};
std::string_view to_string(HandshakeFailure failure);

struct HandshakeError {
  HandshakeFailure kind;
  std::string reason;  // Weave's wording where Weave has one
};

struct HandshakeResult {
  PeerFeatures remote;
  Features features;  // all of them, for the overlays' PrepareConnection
  uint8_t version = 0;
  uint64_t local_conn_id = 0;
  uint64_t connection_uid = 0;  // local ConnID XOR remote ConnID: the same at both ends
  std::optional<crypto::SessionKey> session_key;
};

class Handshake {
 public:
  enum class Status { kInProgress, kSucceeded, kFailed };

  // Draws the ConnID and (with a password) the ephemeral key pair from
  // random, and queues the protocol header.
  Handshake(HandshakeConfig config, Random& random);

  // Consumes bytes; returns the status after them. Ignored once finished.
  Status feed(ByteView bytes);
  // Bytes to write to the stream now (moved out).
  Bytes take_output();

  Status status() const { return status_; }
  // kSucceeded only.
  const HandshakeResult& result() const { return *result_; }
  // kFailed only.
  const HandshakeError& error() const { return *error_; }
  // kSucceeded only, once: holds any bytes that followed the features.
  MessageChannel take_channel();

  uint64_t local_conn_id() const { return conn_id_; }

 private:
  enum class Stage { kHeader, kIntro, kFeatures, kDone };
  void step();
  bool fail(HandshakeFailure kind, std::string reason);
  bool read_header();
  bool read_intro();
  bool read_features();

  HandshakeConfig config_;
  uint64_t conn_id_;
  std::optional<crypto::KeyPair> keys_;
  Stage stage_ = Stage::kHeader;
  Status status_ = Status::kInProgress;
  uint8_t version_ = 0;
  Bytes pending_;  // before the features: header and intro bytes
  Bytes output_;
  std::optional<crypto::SessionKey> session_key_;
  std::optional<MessageChannel> channel_;
  std::optional<HandshakeResult> result_;
  std::optional<HandshakeError> error_;
};

}  // namespace loom::mesh
