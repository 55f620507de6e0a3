// The session key of one mesh TCP connection, exactly as Weave forms it
// (mesh:protocol_crypto.go formSessionKey; weave-protocol.md 4.1):
//
//   shared     = crypto_box_beforenm(remote public, local secret)
//                (X25519, then HSalsa20: Go's box.Precompute)
//   sessionKey = SHA-256(shared || password)
//
// Both ends get the same key; without the password a man in the middle
// gets a different one, and the first sealed message fails to open.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/bytes.h"
#include "model/crypto/key_pair.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kSessionKeySize = 32;

struct SessionKey {
  std::array<uint8_t, kSessionKeySize> bytes{};

  ByteView view() const { return bytes; }
  // Constant time: keys are secrets.
  friend bool operator==(const SessionKey& a, const SessionKey& b);
};

// Fails when the remote key is of low order (the X25519 result is all
// zeros), which only a malicious or broken peer sends.
Result<SessionKey> derive_session_key(const PublicKey& remote, const SecretKey& local,
                                      ByteView password);

// Equal sizes and equal bytes, in time that depends only on the size.
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace loom::crypto
