// ESP (RFC 4303) in transport mode, with an AEAD cipher, inside UDP as
// RFC 3948 encapsulates it: the sealed form of Weave's VXLAN path.
//
// Weave has the kernel wrap each VXLAN UDP packet in ESP, IP protocol 50,
// with `rfc4106(gcm(aes))`, a 36-byte key (AES-256 key, then a 4-byte salt),
// a 16-byte ICV, ESN and replay-window 256 (weave-protocol.md 4.4). Loom
// seals the same bytes the same way, but an engine on the Host seam can
// only send UDP, so the ESP packet travels as the payload of a UDP datagram
// to port 4500, the standard encapsulation of RFC 3948.
//
// One packet, as seal() writes it and open() reads it:
//
//   SPI (4) | sequence number, low 32 bits (4) | IV (8)       clear
//   payload | padding 1,2,3.. | pad length (1) | next header (1)   encrypted
//   ICV (16)
//
//   nonce = salt (4) || IV (8)                 RFC 4106 section 4, RFC 7634 section 2
//   AAD   = SPI || sequence (32-bit), or       RFC 4106 section 5
//           SPI || sequence high 32 || low 32  with ESN
//
// Padding makes payload + padding + 2 a multiple of 4 (RFC 4303 section
// 2.4). The IV is the 64-bit sequence number, big-endian: unique per packet
// under one key, which is all RFC 4106 section 3.1 asks. ChaCha20-Poly1305
// (RFC 7634) is the same framing with another AEAD, for CPUs without AES-NI
// and PCLMUL, where libsodium offers no AES-GCM.
//
// On UDP port 4500 an ESP packet never starts with four zero bytes (SPI 0
// is never sent): that "non-ESP marker" introduces IKE, and a lone 0xFF
// byte is a NAT keepalive (RFC 3948 sections 2.2 and 2.3). Neither is ESP.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "model/bytes.h"
#include "model/crypto/esp_replay_window.h"
#include "model/crypto/open_result.h"
#include "model/result.h"

namespace loom::crypto {

inline constexpr size_t kEspKeySize = 32;
inline constexpr size_t kEspSaltSize = 4;
inline constexpr size_t kEspKeyMaterialSize = kEspKeySize + kEspSaltSize;  // Weave's keySize, 36
inline constexpr size_t kEspHeaderSize = 8;                                // SPI, sequence number
inline constexpr size_t kEspIvSize = 8;
inline constexpr size_t kEspIcvSize = 16;
inline constexpr size_t kEspTrailerSize = 2;  // pad length, next header
inline constexpr size_t kEspAlignment = 4;
// What ESP adds to a payload: 34 to 37 bytes, by its length modulo 4.
inline constexpr size_t kEspMinOverhead =
    kEspHeaderSize + kEspIvSize + kEspTrailerSize + kEspIcvSize;
inline constexpr size_t kEspMaxOverhead = kEspMinOverhead + kEspAlignment - 1;
// The smallest packet open() can take apart: an empty payload.
inline constexpr size_t kEspMinPacketSize = kEspMinOverhead;

inline constexpr uint16_t kEspUdpPort = 4500;     // RFC 3948
inline constexpr uint8_t kEspNextHeaderIpv4 = 4;  // tunnel mode's inner packet
inline constexpr uint8_t kEspNextHeaderUdp = 17;  // transport mode over VXLAN's UDP

enum class EspCipher : uint8_t {
  kAes256Gcm,         // rfc4106(gcm(aes)), Weave's
  kChaCha20Poly1305,  // RFC 7634
};
const char* to_string(EspCipher cipher);
// libsodium's AES-256-GCM needs AES-NI and PCLMUL; ChaCha20-Poly1305 runs anywhere.
bool esp_cipher_available(EspCipher cipher);
// AES-256-GCM where the CPU has it, else ChaCha20-Poly1305. Depends on the
// machine: a simulation that must repeat byte for byte elsewhere names its cipher.
EspCipher preferred_esp_cipher();

// An SA's 36 bytes of key material, split as RFC 4106 section 8.1 and
// RFC 7634 section 2 split them: cipher key first, salt last.
struct EspKey {
  std::array<uint8_t, kEspKeySize> key{};
  std::array<uint8_t, kEspSaltSize> salt{};

  // Fails unless keymat is exactly 36 bytes.
  static Result<EspKey> from_key_material(ByteView keymat);
};

using EspIv = std::array<uint8_t, kEspIvSize>;

// One direction of one connection. Both ends of a direction build it from
// the same values: the receiver's SPI and the key derived for it (ipsec.h).
struct EspSaConfig {
  uint32_t spi = 0;
  EspCipher cipher = EspCipher::kAes256Gcm;
  EspKey key;
  bool esn = true;  // Weave turns ESN on
  // The sequence number the SA starts after: 0 for a new SA (its first
  // packet is 1). Both ends must agree; tests set it near 2^32 to cross the
  // ESN boundary without sending four billion packets.
  uint64_t initial_sequence = 0;
};

// Why open() refused a packet. The data plane counts drops by these.
enum class EspReject : uint8_t {
  kNotEsp,        // IKE (non-ESP marker) or a NAT keepalive on port 4500
  kTruncated,     // shorter than the smallest ESP packet
  kWrongSpi,      // not this SA's SPI
  kBehindWindow,  // older than the replay window, or sequence number 0
  kReplayed,      // seen already, inside the replay window
  kAuthFailed,    // the ICV does not verify: forged, corrupted or the wrong key
  kBadTrailer,    // authenticated, but the pad length or padding is wrong
};
inline constexpr size_t kEspRejectReasons = 7;
// Stable names, fit for a metric label: "not_esp", "truncated", ...
const char* to_string(EspReject reason);

struct EspPayload {
  Bytes data;
  uint8_t next_header = 0;
  uint64_t sequence = 0;  // the full (reconstructed) sequence number
};

// Padding bytes seal() adds to a payload of `payload_size` bytes.
size_t esp_padding_size(size_t payload_size);

// The ESP packet for one payload, every field given: the building block of
// EspSa::seal, exposed so that published vectors (which fix the IV) can be
// checked. The cipher must be available.
Bytes esp_seal_packet(EspCipher cipher, const EspKey& key, uint32_t spi, uint64_t sequence,
                      bool esn, const EspIv& iv, ByteView payload, uint8_t next_header);

// What a datagram on UDP port 4500 holds (RFC 3948).
enum class EspUdpKind : uint8_t { kEsp, kIke, kKeepalive, kMalformed };
EspUdpKind classify_esp_udp(ByteView datagram);
// The SPI of an ESP packet, to find its SA; nothing unless classify says kEsp.
std::optional<uint32_t> esp_spi(ByteView datagram);

// One ESP security association: seal() for the outbound direction, open()
// for the inbound one (an SA is used one way only, as in the kernel).
class EspSa {
 public:
  // Fails when the cipher is not available on this CPU or the SPI is 0.
  static Result<EspSa> create(const EspSaConfig& config);

  uint32_t spi() const { return config_.spi; }
  EspCipher cipher() const { return config_.cipher; }
  bool esn() const { return config_.esn; }

  // The next packet: sequence number last + 1, IV = that number. Fails
  // when the sequence numbers are spent (2^32 - 1 without ESN, 2^64 - 1
  // with): the SA must be replaced, never wrap (RFC 4303 section 3.3.3).
  Result<Bytes> seal(ByteView payload, uint8_t next_header);
  uint64_t last_sequence_sent() const { return sent_; }

  // The payload of a received packet (a whole UDP 4500 datagram), or why
  // not. The replay window moves only for packets that authenticate.
  OpenResult<EspPayload, EspReject> open(ByteView packet);
  const EspReplayWindow& replay_window() const { return window_; }

 private:
  explicit EspSa(const EspSaConfig& config);

  EspSaConfig config_;
  uint64_t sent_;
  EspReplayWindow window_;
};

}  // namespace loom::crypto
