// Reference benchmarks shared by bench_crypto and bench_dataplane:
// libsodium's AEADs and secretbox alone on one 1,450-byte frame, no
// framing, no keys of ours. Ours are reported as ratios to these, measured
// in the same run. A program registers all of them, under the names its
// ratio table uses (BM_Reference_RawAeadSeal/aes256gcm, ...), with
// LOOM_REFERENCE_CRYPTO_BENCHMARKS(); at namespace scope.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <benchmark/benchmark.h>
#include <sodium.h>

#include "model/bytes.h"
#include "model/crypto/esp.h"

namespace loom::bench {

constexpr size_t kReferenceFrameSize = 1450;

inline const Bytes& reference_frame() {
  static const Bytes f = [] {
    Bytes b(kReferenceFrameSize);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 31 + 7);
    return b;
  }();
  return f;
}

inline bool skip_unavailable_cipher(benchmark::State& state, crypto::EspCipher cipher) {
  if (crypto::esp_cipher_available(cipher)) return false;
  state.SkipWithError("AES-256-GCM needs AES-NI and PCLMUL");
  return true;
}

namespace detail {
struct AeadFixture {
  std::array<uint8_t, 32> key{};
  std::array<uint8_t, 12> nonce{};
  std::array<uint8_t, 12> aad{};

  int seal(crypto::EspCipher cipher, uint8_t* out, ByteView in) const {
    unsigned long long n = 0;
    if (cipher == crypto::EspCipher::kAes256Gcm) {
      return crypto_aead_aes256gcm_encrypt(out, &n, in.data(), in.size(), aad.data(), aad.size(),
                                           nullptr, nonce.data(), key.data());
    }
    return crypto_aead_chacha20poly1305_ietf_encrypt(out, &n, in.data(), in.size(), aad.data(),
                                                     aad.size(), nullptr, nonce.data(), key.data());
  }
  int open(crypto::EspCipher cipher, uint8_t* out, ByteView in) const {
    unsigned long long n = 0;
    if (cipher == crypto::EspCipher::kAes256Gcm) {
      return crypto_aead_aes256gcm_decrypt(out, &n, nullptr, in.data(), in.size(), aad.data(),
                                           aad.size(), nonce.data(), key.data());
    }
    return crypto_aead_chacha20poly1305_ietf_decrypt(
        out, &n, nullptr, in.data(), in.size(), aad.data(), aad.size(), nonce.data(), key.data());
  }
};

inline void processed(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kReferenceFrameSize));
}
}  // namespace detail

// libsodium's AEAD alone: the frame in, ciphertext and tag out.
inline void BM_Reference_RawAeadSeal(benchmark::State& state, crypto::EspCipher cipher) {
  if (skip_unavailable_cipher(state, cipher)) return;
  const detail::AeadFixture aead;
  Bytes out(kReferenceFrameSize + 16);
  for (auto _ : state) {
    aead.seal(cipher, out.data(), reference_frame());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  detail::processed(state);
}

inline void BM_Reference_RawAeadOpen(benchmark::State& state, crypto::EspCipher cipher) {
  if (skip_unavailable_cipher(state, cipher)) return;
  const detail::AeadFixture aead;
  Bytes sealed(kReferenceFrameSize + 16), out(kReferenceFrameSize);
  aead.seal(cipher, sealed.data(), reference_frame());
  for (auto _ : state) {
    if (aead.open(cipher, out.data(), sealed) != 0) state.SkipWithError("raw AEAD failed to open");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  detail::processed(state);
}

inline void BM_Reference_RawSecretboxSeal(benchmark::State& state) {
  const Bytes& in = reference_frame();
  Bytes out(kReferenceFrameSize + crypto_secretbox_MACBYTES);
  const std::array<uint8_t, crypto_secretbox_KEYBYTES> key{};
  const std::array<uint8_t, crypto_secretbox_NONCEBYTES> nonce{};
  for (auto _ : state) {
    crypto_secretbox_easy(out.data(), in.data(), in.size(), nonce.data(), key.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  detail::processed(state);
}

inline void BM_Reference_RawSecretboxOpen(benchmark::State& state) {
  const Bytes& in = reference_frame();
  const std::array<uint8_t, crypto_secretbox_KEYBYTES> key{};
  const std::array<uint8_t, crypto_secretbox_NONCEBYTES> nonce{};
  Bytes sealed(kReferenceFrameSize + crypto_secretbox_MACBYTES), out(kReferenceFrameSize);
  crypto_secretbox_easy(sealed.data(), in.data(), in.size(), nonce.data(), key.data());
  for (auto _ : state) {
    if (crypto_secretbox_open_easy(out.data(), sealed.data(), sealed.size(), nonce.data(),
                                   key.data()) != 0) {
      state.SkipWithError("raw secretbox failed to open");
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  detail::processed(state);
}

}  // namespace loom::bench

// Benchmark names come from the function's unqualified name, hence the
// using-declarations rather than qualified names.
#define LOOM_REFERENCE_CRYPTO_BENCHMARKS()                                                       \
  using ::loom::bench::BM_Reference_RawAeadOpen;                                                 \
  using ::loom::bench::BM_Reference_RawAeadSeal;                                                 \
  using ::loom::bench::BM_Reference_RawSecretboxOpen;                                            \
  using ::loom::bench::BM_Reference_RawSecretboxSeal;                                            \
  BENCHMARK_CAPTURE(BM_Reference_RawAeadSeal, aes256gcm, ::loom::crypto::EspCipher::kAes256Gcm); \
  BENCHMARK_CAPTURE(BM_Reference_RawAeadSeal, chacha20poly1305,                                  \
                    ::loom::crypto::EspCipher::kChaCha20Poly1305);                               \
  BENCHMARK_CAPTURE(BM_Reference_RawAeadOpen, aes256gcm, ::loom::crypto::EspCipher::kAes256Gcm); \
  BENCHMARK_CAPTURE(BM_Reference_RawAeadOpen, chacha20poly1305,                                  \
                    ::loom::crypto::EspCipher::kChaCha20Poly1305);                               \
  BENCHMARK(BM_Reference_RawSecretboxSeal);                                                      \
  BENCHMARK(BM_Reference_RawSecretboxOpen)
