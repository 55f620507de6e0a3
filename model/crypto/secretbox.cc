#include "model/crypto/secretbox.h"

#include <string>

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

static_assert(kNonceSize == crypto_secretbox_NONCEBYTES);
static_assert(kSecretboxOverhead == crypto_secretbox_MACBYTES);
static_assert(kSessionKeySize == crypto_secretbox_KEYBYTES);

Nonce tcp_nonce(bool outbound, uint64_t sequence) {
  Nonce nonce{};
  nonce[0] = static_cast<uint8_t>((outbound ? 0x80 : 0x00) | 0x40);
  for (size_t i = 0; i < 8; ++i) nonce[16 + i] = static_cast<uint8_t>(sequence >> (56 - 8 * i));
  return nonce;
}

Bytes secretbox_seal(const SessionKey& key, const Nonce& nonce, ByteView plaintext) {
  ensure_sodium();
  Bytes box(plaintext.size() + kSecretboxOverhead);
  crypto_secretbox_easy(box.data(), plaintext.data(), plaintext.size(), nonce.data(),
                        key.bytes.data());
  return box;
}

Result<Bytes> secretbox_open(const SessionKey& key, const Nonce& nonce, ByteView box) {
  ensure_sodium();
  if (box.size() < kSecretboxOverhead) {
    return make_error("sealed message of " + std::to_string(box.size()) +
                      " bytes is shorter than its 16-byte tag");
  }
  Bytes plain(box.size() - kSecretboxOverhead);
  if (crypto_secretbox_open_easy(plain.data(), box.data(), box.size(), nonce.data(),
                                 key.bytes.data()) != 0) {
    return make_error("authentication failed");
  }
  return plain;
}

Bytes SecretboxSender::seal(ByteView message) {
  Bytes box = secretbox_seal(key_, tcp_nonce(outbound_, sequence_), message);
  ++sequence_;
  return box;
}

Result<Bytes> SecretboxReceiver::open(ByteView box) {
  auto plain = secretbox_open(key_, tcp_nonce(sender_outbound_, sequence_), box);
  if (!plain) return make_error("Unable to decrypt TCP msg");
  ++sequence_;
  return plain;
}

}  // namespace loom::crypto
