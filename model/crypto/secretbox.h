// NaCl secretbox (XSalsa20-Poly1305) and Weave's TCP nonce discipline
// (mesh:protocol_crypto.go tcpCryptoState; weave-protocol.md 4.2).
//
// Each message on an encrypted mesh connection is secretbox(msg, nonce, key);
// the nonce is never sent. Its 24 bytes are:
//   byte 0, bit 7: the sender's polarity (1 if the sender dialled out)
//   byte 0, bit 6: 1, "TCP", apart from sleeve's UDP nonces under the same key
//   bytes 16-23:   the message's sequence number, big-endian, from 0
// and zero elsewhere. Each direction counts on its own; the receiver expects
// the next number, so a replayed, reordered, dropped or forged message fails
// to open, and the connection must close.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/bytes.h"
#include "model/crypto/session_key.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kNonceSize = 24;
inline constexpr size_t kSecretboxOverhead = 16;  // the Poly1305 tag, first

using Nonce = std::array<uint8_t, kNonceSize>;

// The nonce of message `sequence` sent by a peer of polarity `outbound`.
Nonce tcp_nonce(bool outbound, uint64_t sequence);

// tag || ciphertext, as crypto_secretbox_easy and Go's secretbox.Seal.
Bytes secretbox_seal(const SessionKey& key, const Nonce& nonce, ByteView plaintext);
// Fails when the box is shorter than its tag or does not authenticate.
Result<Bytes> secretbox_open(const SessionKey& key, const Nonce& nonce, ByteView box);

// Seals one direction's messages, numbering them from 0.
class SecretboxSender {
 public:
  // outbound: whether we dialled this connection.
  SecretboxSender(const SessionKey& key, bool outbound) : key_(key), outbound_(outbound) {}
  Bytes seal(ByteView message);
  uint64_t next_sequence() const { return sequence_; }

 private:
  SessionKey key_;
  bool outbound_;
  uint64_t sequence_ = 0;
};

// Opens the other direction's messages, in order.
class SecretboxReceiver {
 public:
  // outbound: whether *we* dialled this connection (the sender's polarity is
  // the opposite), so both ends pass their own view, as Weave does.
  SecretboxReceiver(const SessionKey& key, bool outbound)
      : key_(key), sender_outbound_(!outbound) {}
  // The next message, or an error ("Unable to decrypt TCP msg", Weave's
  // words) when it does not open under the expected sequence number; the
  // expected number then stays put, and the connection should close.
  Result<Bytes> open(ByteView box);
  uint64_t next_sequence() const { return sequence_; }

 private:
  SessionKey key_;
  bool sender_outbound_;
  uint64_t sequence_ = 0;
};

}  // namespace loom::crypto
