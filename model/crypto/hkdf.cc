#include "model/crypto/hkdf.h"

#include <algorithm>
#include <array>
#include <string>

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

static_assert(kHkdfHashSize == crypto_auth_hmacsha256_BYTES);

HkdfPrk hkdf_extract(ByteView salt, ByteView ikm) {
  ensure_sodium();
  // crypto_auth_hmacsha256_init takes keys of any length (it hashes keys
  // longer than the 64-byte block), which HKDF's salt may be.
  // No salt is HashLen zeros (RFC 5869 2.2), which HMAC's key padding makes
  // the same as an empty key; libsodium wants a non-null key pointer.
  static const std::array<uint8_t, kHkdfHashSize> kNoSalt{};
  const ByteView key = salt.empty() ? ByteView(kNoSalt.data(), kNoSalt.size()) : salt;
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  if (!ikm.empty()) crypto_auth_hmacsha256_update(&state, ikm.data(), ikm.size());
  HkdfPrk prk{};
  crypto_auth_hmacsha256_final(&state, prk.data());
  sodium_memzero(&state, sizeof state);
  return prk;
}

Result<Bytes> hkdf_expand(const HkdfPrk& prk, ByteView info, size_t length) {
  ensure_sodium();
  if (length > kHkdfMaxOutput) {
    return make_error("hkdf: " + std::to_string(length) + " bytes asked for, at most " +
                      std::to_string(kHkdfMaxOutput) + " can be derived");
  }
  Bytes okm(length);
  std::array<uint8_t, kHkdfHashSize> block{};
  size_t done = 0;
  for (uint8_t counter = 1; done < length; ++counter) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, prk.data(), prk.size());
    if (counter > 1) crypto_auth_hmacsha256_update(&state, block.data(), block.size());
    if (!info.empty()) crypto_auth_hmacsha256_update(&state, info.data(), info.size());
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, block.data());
    sodium_memzero(&state, sizeof state);
    const size_t n = std::min(block.size(), length - done);
    std::copy_n(block.begin(), n, okm.begin() + static_cast<ptrdiff_t>(done));
    done += n;
  }
  sodium_memzero(block.data(), block.size());
  return okm;
}

Result<Bytes> hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length) {
  HkdfPrk prk = hkdf_extract(salt, ikm);
  auto okm = hkdf_expand(prk, info, length);
  sodium_memzero(prk.data(), prk.size());
  return okm;
}

}  // namespace loom::crypto
