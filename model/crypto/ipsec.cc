#include "model/crypto/ipsec.h"

#include <string>

#include <sodium.h>

#include "model/crypto/hkdf.h"

namespace loom::crypto {

namespace {

constexpr int kSpiDraws = 64;

}  // namespace

EspKey derive_esp_key(const SessionKey& session_key, const IpsecNonce& nonce,
                      uint64_t receiver_peer) {
  std::array<uint8_t, 8> info{};
  for (size_t i = 0; i < info.size(); ++i)
    info[i] = static_cast<uint8_t>(receiver_peer >> (56 - 8 * i));
  auto keymat = hkdf_sha256(session_key.view(), nonce, info, kEspKeyMaterialSize);
  // 36 bytes are always within HKDF's 8160, and always split.
  EspKey key = *EspKey::from_key_material(*keymat);
  sodium_memzero(keymat->data(), keymat->size());
  return key;
}

Bytes InitSaRemote::encode() const {
  Bytes out(kInitSaRemoteSize, 0);
  std::copy(nonce.begin(), nonce.end(), out.begin());
  for (size_t i = 0; i < 4; ++i)
    out[kIpsecNonceSize + i] = static_cast<uint8_t>(spi >> (24 - 8 * i));
  return out;
}

Result<InitSaRemote> InitSaRemote::decode(ByteView message) {
  if (message.size() != kInitSaRemoteSize) {
    return make_error("ipsec: InitSARemote of " + std::to_string(message.size()) +
                      " bytes, expected " + std::to_string(kInitSaRemoteSize));
  }
  InitSaRemote m;
  std::copy_n(message.begin(), kIpsecNonceSize, m.nonce.begin());
  const uint8_t* s = message.data() + kIpsecNonceSize;
  m.spi = (uint32_t{s[0]} << 24) | (uint32_t{s[1]} << 16) | (uint32_t{s[2]} << 8) | s[3];
  if (m.spi < kMinSpi) {
    return make_error("ipsec: InitSARemote carries SPI " + std::to_string(m.spi) +
                      ", which is reserved (below 256)");
  }
  return m;
}

IpsecNonce generate_ipsec_nonce(Random& random) {
  IpsecNonce nonce{};
  for (size_t i = 0; i < nonce.size(); i += 8) {
    const uint64_t word = random.next();
    for (size_t j = 0; j < 8; ++j) nonce[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  return nonce;
}

Result<uint32_t> allocate_spi(Random& random, const std::function<bool(uint32_t)>& taken) {
  for (int i = 0; i < kSpiDraws; ++i) {
    const auto spi = static_cast<uint32_t>(kMinSpi + random.below(uint64_t{kMaxSpi} - kMinSpi + 1));
    if (!taken || !taken(spi)) return spi;
  }
  return make_error("ipsec: no free SPI after " + std::to_string(kSpiDraws) + " draws");
}

Result<InboundSaSetup> init_sa_local(const SessionKey& session_key, uint64_t local_peer,
                                     EspCipher cipher, Random& random,
                                     const std::function<bool(uint32_t)>& spi_taken) {
  InboundSaSetup setup;
  setup.message.nonce = generate_ipsec_nonce(random);
  auto spi = allocate_spi(random, spi_taken);
  if (!spi) return spi.error();
  setup.message.spi = *spi;
  setup.config.spi = *spi;
  setup.config.cipher = cipher;
  setup.config.key = derive_esp_key(session_key, setup.message.nonce, local_peer);
  return setup;
}

Result<EspSaConfig> init_sa_remote(const SessionKey& session_key, uint64_t remote_peer,
                                   ByteView message, EspCipher cipher) {
  auto m = InitSaRemote::decode(message);
  if (!m) return m.error();
  EspSaConfig config;
  config.spi = m->spi;
  config.cipher = cipher;
  config.key = derive_esp_key(session_key, m->nonce, remote_peer);
  return config;
}

}  // namespace loom::crypto
