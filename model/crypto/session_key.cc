#include "model/crypto/session_key.h"

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

bool operator==(const SessionKey& a, const SessionKey& b) {
  return constant_time_equal(a.view(), b.view());
}

Result<SessionKey> derive_session_key(const PublicKey& remote, const SecretKey& local,
                                      ByteView password) {
  ensure_sodium();
  std::array<uint8_t, crypto_box_BEFORENMBYTES> shared{};
  if (crypto_box_beforenm(shared.data(), remote.data(), local.data()) != 0) {
    return make_error("remote public key is of low order (no shared secret)");
  }
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, shared.data(), shared.size());
  if (!password.empty()) crypto_hash_sha256_update(&state, password.data(), password.size());
  SessionKey key;
  crypto_hash_sha256_final(&state, key.bytes.data());
  sodium_memzero(shared.data(), shared.size());
  sodium_memzero(&state, sizeof state);
  return key;
}

bool constant_time_equal(ByteView a, ByteView b) {
  ensure_sodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace loom::crypto
