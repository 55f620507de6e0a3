#include "model/crypto/esp.h"

#include <algorithm>
#include <limits>
#include <string>

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

static_assert(kEspKeySize == crypto_aead_aes256gcm_KEYBYTES);
static_assert(kEspKeySize == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(kEspSaltSize + kEspIvSize == crypto_aead_aes256gcm_NPUBBYTES);
static_assert(kEspSaltSize + kEspIvSize == crypto_aead_chacha20poly1305_ietf_NPUBBYTES);
static_assert(kEspIcvSize == crypto_aead_aes256gcm_ABYTES);
static_assert(kEspIcvSize == crypto_aead_chacha20poly1305_ietf_ABYTES);

namespace {

constexpr size_t kNonceSize = kEspSaltSize + kEspIvSize;
constexpr size_t kMaxAadSize = 12;

void store_be32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// RFC 4106 section 5 (and RFC 7634 section 2.1): SPI and the 32-bit
// sequence number, or with ESN the SPI and both halves of the 64-bit one.
size_t build_aad(uint8_t* aad, uint32_t spi, uint64_t sequence, bool esn) {
  store_be32(aad, spi);
  if (!esn) {
    store_be32(aad + 4, static_cast<uint32_t>(sequence));
    return 8;
  }
  store_be32(aad + 4, static_cast<uint32_t>(sequence >> 32));
  store_be32(aad + 8, static_cast<uint32_t>(sequence));
  return 12;
}

std::array<uint8_t, kNonceSize> build_nonce(const EspKey& key, const uint8_t* iv) {
  std::array<uint8_t, kNonceSize> nonce{};
  std::copy(key.salt.begin(), key.salt.end(), nonce.begin());
  std::copy_n(iv, kEspIvSize, nonce.begin() + kEspSaltSize);
  return nonce;
}

// Encrypts n bytes at `inout` in place and writes the 16-byte tag after them.
void aead_seal(EspCipher cipher, uint8_t* inout, size_t n, const uint8_t* aad, size_t aad_size,
               const uint8_t* nonce, const uint8_t* key) {
  unsigned long long written = 0;
  if (cipher == EspCipher::kAes256Gcm) {
    crypto_aead_aes256gcm_encrypt(inout, &written, inout, n, aad, aad_size, nullptr, nonce, key);
  } else {
    crypto_aead_chacha20poly1305_ietf_encrypt(inout, &written, inout, n, aad, aad_size, nullptr,
                                              nonce, key);
  }
}

// Decrypts ciphertext || tag (n bytes in all) into out (n - 16 bytes);
// false, with nothing in out worth reading, when it does not authenticate.
bool aead_open(EspCipher cipher, uint8_t* out, const uint8_t* in, size_t n, const uint8_t* aad,
               size_t aad_size, const uint8_t* nonce, const uint8_t* key) {
  unsigned long long written = 0;
  if (cipher == EspCipher::kAes256Gcm) {
    return crypto_aead_aes256gcm_decrypt(out, &written, nullptr, in, n, aad, aad_size, nonce,
                                         key) == 0;
  }
  return crypto_aead_chacha20poly1305_ietf_decrypt(out, &written, nullptr, in, n, aad, aad_size,
                                                   nonce, key) == 0;
}

}  // namespace

const char* to_string(EspCipher cipher) {
  switch (cipher) {
    case EspCipher::kAes256Gcm:
      return "aes256gcm";
    case EspCipher::kChaCha20Poly1305:
      return "chacha20poly1305";
  }
  return "unknown";
}

bool esp_cipher_available(EspCipher cipher) {
  ensure_sodium();
  return cipher == EspCipher::kChaCha20Poly1305 || crypto_aead_aes256gcm_is_available() != 0;
}

EspCipher preferred_esp_cipher() {
  return esp_cipher_available(EspCipher::kAes256Gcm) ? EspCipher::kAes256Gcm
                                                     : EspCipher::kChaCha20Poly1305;
}

Result<EspKey> EspKey::from_key_material(ByteView keymat) {
  if (keymat.size() != kEspKeyMaterialSize) {
    return make_error("esp: key material of " + std::to_string(keymat.size()) +
                      " bytes, expected " + std::to_string(kEspKeyMaterialSize) +
                      " (32-byte key, 4-byte salt)");
  }
  EspKey key;
  std::copy_n(keymat.begin(), kEspKeySize, key.key.begin());
  std::copy_n(keymat.begin() + kEspKeySize, kEspSaltSize, key.salt.begin());
  return key;
}

const char* to_string(EspReject reason) {
  switch (reason) {
    case EspReject::kNotEsp:
      return "not_esp";
    case EspReject::kTruncated:
      return "truncated";
    case EspReject::kWrongSpi:
      return "wrong_spi";
    case EspReject::kBehindWindow:
      return "behind_window";
    case EspReject::kReplayed:
      return "replayed";
    case EspReject::kAuthFailed:
      return "auth_failed";
    case EspReject::kBadTrailer:
      return "bad_trailer";
  }
  return "unknown";
}

size_t esp_padding_size(size_t payload_size) {
  return (kEspAlignment - (payload_size + kEspTrailerSize) % kEspAlignment) % kEspAlignment;
}

Bytes esp_seal_packet(EspCipher cipher, const EspKey& key, uint32_t spi, uint64_t sequence,
                      bool esn, const EspIv& iv, ByteView payload, uint8_t next_header) {
  ensure_sodium();
  const size_t padding = esp_padding_size(payload.size());
  const size_t plain = payload.size() + padding + kEspTrailerSize;
  Bytes packet(kEspHeaderSize + kEspIvSize + plain + kEspIcvSize);
  uint8_t* p = packet.data();
  store_be32(p, spi);
  store_be32(p + 4, static_cast<uint32_t>(sequence));
  std::copy(iv.begin(), iv.end(), p + kEspHeaderSize);
  uint8_t* body = p + kEspHeaderSize + kEspIvSize;
  std::copy(payload.begin(), payload.end(), body);
  // RFC 4303 section 2.4: the default padding is 1, 2, 3, ...
  for (size_t i = 0; i < padding; ++i) body[payload.size() + i] = static_cast<uint8_t>(i + 1);
  body[plain - 2] = static_cast<uint8_t>(padding);
  body[plain - 1] = next_header;

  std::array<uint8_t, kMaxAadSize> aad{};
  const size_t aad_size = build_aad(aad.data(), spi, sequence, esn);
  const auto nonce = build_nonce(key, iv.data());
  aead_seal(cipher, body, plain, aad.data(), aad_size, nonce.data(), key.key.data());
  return packet;
}

EspUdpKind classify_esp_udp(ByteView datagram) {
  if (datagram.size() == 1 && datagram[0] == 0xFF) return EspUdpKind::kKeepalive;
  if (datagram.size() < 4) return EspUdpKind::kMalformed;
  if (load_be32(datagram.data()) == 0) return EspUdpKind::kIke;
  return EspUdpKind::kEsp;
}

std::optional<uint32_t> esp_spi(ByteView datagram) {
  if (classify_esp_udp(datagram) != EspUdpKind::kEsp) return std::nullopt;
  return load_be32(datagram.data());
}

Result<EspSa> EspSa::create(const EspSaConfig& config) {
  if (!esp_cipher_available(config.cipher)) {
    return make_error(std::string("esp: ") + to_string(config.cipher) +
                      " is not available on this CPU (libsodium's AES-GCM needs AES-NI and "
                      "PCLMUL)");
  }
  if (config.spi == 0) return make_error("esp: SPI 0 is reserved and never sent");
  if (!config.esn && config.initial_sequence > std::numeric_limits<uint32_t>::max()) {
    return make_error("esp: initial sequence number " + std::to_string(config.initial_sequence) +
                      " needs ESN");
  }
  return EspSa(config);
}

EspSa::EspSa(const EspSaConfig& config)
    : config_(config),
      sent_(config.initial_sequence),
      window_(config.esn, config.initial_sequence) {}

Result<Bytes> EspSa::seal(ByteView payload, uint8_t next_header) {
  const uint64_t last =
      config_.esn ? std::numeric_limits<uint64_t>::max() : std::numeric_limits<uint32_t>::max();
  if (sent_ >= last) {
    return make_error("esp: SA " + std::to_string(config_.spi) +
                      " has used every sequence number; it must be replaced");
  }
  const uint64_t sequence = sent_ + 1;
  EspIv iv{};
  for (size_t i = 0; i < iv.size(); ++i) iv[i] = static_cast<uint8_t>(sequence >> (56 - 8 * i));
  Bytes packet = esp_seal_packet(config_.cipher, config_.key, config_.spi, sequence, config_.esn,
                                 iv, payload, next_header);
  sent_ = sequence;
  return packet;
}

OpenResult<EspPayload, EspReject> EspSa::open(ByteView packet) {
  switch (classify_esp_udp(packet)) {
    case EspUdpKind::kIke:
    case EspUdpKind::kKeepalive:
      return EspReject::kNotEsp;
    case EspUdpKind::kMalformed:
      return EspReject::kTruncated;
    case EspUdpKind::kEsp:
      break;
  }
  if (packet.size() < kEspMinPacketSize) return EspReject::kTruncated;
  const uint8_t* p = packet.data();
  const uint32_t spi = load_be32(p);
  if (spi != config_.spi) return EspReject::kWrongSpi;

  // Cheap refusals first (RFC 4303 section 3.4.3): the window is checked
  // before the ICV, and again, now for real, after it.
  const auto sequence = window_.reconstruct(load_be32(p + 4));
  if (!sequence) return EspReject::kBehindWindow;
  switch (window_.check(*sequence)) {
    case EspReplayWindow::Check::kBehind:
      return EspReject::kBehindWindow;
    case EspReplayWindow::Check::kReplayed:
      return EspReject::kReplayed;
    case EspReplayWindow::Check::kNew:
      break;
  }

  ensure_sodium();
  std::array<uint8_t, kMaxAadSize> aad{};
  const size_t aad_size = build_aad(aad.data(), spi, *sequence, config_.esn);
  const auto nonce = build_nonce(config_.key, p + kEspHeaderSize);
  const uint8_t* sealed = p + kEspHeaderSize + kEspIvSize;
  const size_t sealed_size = packet.size() - kEspHeaderSize - kEspIvSize;
  EspPayload out;
  out.data.resize(sealed_size - kEspIcvSize);
  if (!aead_open(config_.cipher, out.data.data(), sealed, sealed_size, aad.data(), aad_size,
                 nonce.data(), config_.key.key.data())) {
    return EspReject::kAuthFailed;
  }

  const size_t plain = out.data.size();
  const size_t padding = out.data[plain - 2];
  if (padding + kEspTrailerSize > plain) return EspReject::kBadTrailer;
  const size_t payload_size = plain - kEspTrailerSize - padding;
  for (size_t i = 0; i < padding; ++i) {
    if (out.data[payload_size + i] != static_cast<uint8_t>(i + 1)) return EspReject::kBadTrailer;
  }
  out.next_header = out.data[plain - 1];
  out.data.resize(payload_size);
  out.sequence = *sequence;
  window_.accept(*sequence);
  return out;
}

}  // namespace loom::crypto
