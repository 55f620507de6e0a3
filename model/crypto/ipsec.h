// How Weave sets up the two ESP SAs of one connection
// (weave:net/ipsec/ipsec.go InitSALocal, InitSARemote, deriveKey;
// weave-protocol.md 4.4): keys, SPIs and the one message that carries them.
//
// Each direction is set up by its *receiver*. At Confirm() each peer, for
// the direction towards itself:
//   1. draws a fresh 32-byte nonce;
//   2. picks the inbound SPI, in [0x100, 0xffffffff] and unused for
//      packets to it (the kernel's `xfrm allocspi`; 1-255 are reserved);
//   3. derives the SA's 36 bytes of key material:
//        HKDF-SHA256(IKM  = the mesh session key (session_key.h),
//                    salt = the nonce,
//                    info = its own peer name, 8 bytes big-endian)
//      and splits them into a 32-byte key and a 4-byte salt (esp.h);
//   4. sends InitSARemote{nonce, SPI} to the other peer over the
//      connection's encrypted TCP channel (overlay control tag 1).
// The other peer derives the same key material from the same nonce and
// the *receiver's* name (its remote peer) and installs its outbound SA.
// The connection UID plays no part in the keys; Weave uses it only to name
// the SAs it keeps. Keys live as long as the connection: no rekeying.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "model/bytes.h"
#include "model/crypto/esp.h"
#include "model/crypto/session_key.h"
#include "model/random.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kIpsecNonceSize = 32;    // Weave's nonceSize
inline constexpr size_t kInitSaRemoteSize = 64;  // the nonce, then the SPI padded to 32 bytes
inline constexpr uint32_t kMinSpi = 0x100;       // 1-255 are reserved by IANA
inline constexpr uint32_t kMaxSpi = 0xffffffff;

using IpsecNonce = std::array<uint8_t, kIpsecNonceSize>;

// deriveKey: the key material of the SA carrying packets *to*
// `receiver_peer` (a 48-bit mesh peer name), split into key and salt.
EspKey derive_esp_key(const SessionKey& session_key, const IpsecNonce& nonce,
                      uint64_t receiver_peer);

// The overlay control message FastDatapathCryptoInitSARemote's body.
struct InitSaRemote {
  IpsecNonce nonce{};
  uint32_t spi = 0;

  // nonce (32) || SPI (4, big-endian) || 28 zero bytes.
  Bytes encode() const;
  // Exactly 64 bytes, as Weave checks; the padding is not read.
  static Result<InitSaRemote> decode(ByteView message);
};

// A fresh nonce, 32 bytes from the Host's Random.
IpsecNonce generate_ipsec_nonce(Random& random);

// The inbound SPI: uniform in [kMinSpi, kMaxSpi] and not `taken` (the SPIs
// already in use for packets to this host). Fails only when every draw of
// a bounded number was taken.
Result<uint32_t> allocate_spi(Random& random, const std::function<bool(uint32_t)>& taken);

// InitSALocal: the inbound SA towards `local_peer`, and the message that
// tells the remote peer how to build its outbound one.
struct InboundSaSetup {
  EspSaConfig config;
  InitSaRemote message;
};
Result<InboundSaSetup> init_sa_local(const SessionKey& session_key, uint64_t local_peer,
                                     EspCipher cipher, Random& random,
                                     const std::function<bool(uint32_t)>& spi_taken);

// InitSARemote: the outbound SA towards `remote_peer`, from its message.
Result<EspSaConfig> init_sa_remote(const SessionKey& session_key, uint64_t remote_peer,
                                   ByteView message, EspCipher cipher);

}  // namespace loom::crypto
