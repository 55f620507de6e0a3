// HKDF with HMAC-SHA256 (RFC 5869), over libsodium's crypto_auth_hmacsha256.
//
// Debian 12 ships libsodium 1.0.18, which predates crypto_kdf_hkdf_sha256
// (1.0.19), so extract and expand are written here, a few lines each. Weave
// derives its IPsec keys with Go's golang.org/x/crypto/hkdf, the same RFC
// (see ipsec.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kHkdfHashSize = 32;                    // SHA-256
inline constexpr size_t kHkdfMaxOutput = 255 * kHkdfHashSize;  // RFC 5869 section 2.3

using HkdfPrk = std::array<uint8_t, kHkdfHashSize>;

// PRK = HMAC-SHA256(salt, IKM). An empty salt means HashLen zero bytes, as
// the RFC says (HMAC pads its key with zeros, so the two are the same).
HkdfPrk hkdf_extract(ByteView salt, ByteView ikm);

// OKM, the first `length` bytes of T(1) || T(2) || ... where
// T(i) = HMAC-SHA256(PRK, T(i-1) || info || i). Fails when length exceeds
// 255 * 32 bytes.
Result<Bytes> hkdf_expand(const HkdfPrk& prk, ByteView info, size_t length);

// Extract then expand.
Result<Bytes> hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, size_t length);

}  // namespace loom::crypto
