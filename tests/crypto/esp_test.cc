#include "model/crypto/esp.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <sodium.h>

#include "model/random.h"
#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

constexpr uint64_t k2To32 = uint64_t{1} << 32;

EspKey key_from_hex(std::string_view key, std::string_view salt) {
  return *EspKey::from_key_material([&] {
    Bytes b = from_hex(key);
    const Bytes s = from_hex(salt);
    b.insert(b.end(), s.begin(), s.end());
    return b;
  }());
}

EspIv iv_from_hex(std::string_view hex) {
  EspIv iv{};
  const Bytes b = from_hex(hex);
  std::copy(b.begin(), b.end(), iv.begin());
  return iv;
}

EspSaConfig config(EspCipher cipher, uint32_t spi = 0x12345678, uint8_t key_byte = 0x42) {
  EspSaConfig c;
  c.spi = spi;
  c.cipher = cipher;
  c.key.key.fill(key_byte);
  c.key.salt = {0xc0, 0xff, 0xee, 0x11};
  return c;
}

EspSa sa(const EspSaConfig& c) {
  auto s = EspSa::create(c);
  if (!s) throw std::runtime_error(s.error().message);
  return *std::move(s);
}

Bytes filler(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 31 + 7);
  return b;
}

// Both ciphers, for the tests that hold for either.
class EspBothCiphers : public ::testing::TestWithParam<EspCipher> {};
INSTANTIATE_TEST_SUITE_P(Ciphers, EspBothCiphers,
                         ::testing::Values(EspCipher::kAes256Gcm, EspCipher::kChaCha20Poly1305),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

// --- Published vectors --------------------------------------------------

// RFC 7634 Appendix A: an ESP packet sealed with ChaCha20-Poly1305. SPI
// 01020304, sequence 5 (32-bit), IV 10..17, an 84-byte IPv4 packet in
// tunnel mode (next header 4), padded with 01 02.
TEST(EspVectors, Rfc7634AppendixA) {
  const EspKey key =
      key_from_hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "a0a1a2a3");
  const Bytes inner = from_hex(
      "45000054a6f200004001e778c6336405c000020508005b7a3a080000553bec10"
      "0007362708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20212223"
      "2425262728292a2b2c2d2e2f3031323334353637");
  ASSERT_EQ(inner.size(), 84u);
  const Bytes expected = from_hex(
      "0102030400000005"
      "1011121314151617"
      "24039428b97f417e3c13753a4f05087b67c352e6a7fab1b982d466ef407ae5c6"
      "14ee8099d52844eb61aa95dfab4c02f72aa71e7c4c4f64c9befe2facc638e8f3"
      "cbec163fac469b502773f6fb94e664da9165b82829f641e076aaa8266b7fb0f7"
      "b11b369907e1ad43");
  EXPECT_EQ(esp_seal_packet(EspCipher::kChaCha20Poly1305, key, 0x01020304, 5, false,
                            iv_from_hex("1011121314151617"), inner, kEspNextHeaderIpv4),
            expected);

  EspSaConfig c;
  c.spi = 0x01020304;
  c.cipher = EspCipher::kChaCha20Poly1305;
  c.key = key;
  c.esn = false;
  EspSa receiver = sa(c);
  auto opened = receiver.open(expected);
  ASSERT_TRUE(opened.ok()) << to_string(opened.reason());
  EXPECT_EQ(opened->data, inner);
  EXPECT_EQ(opened->next_header, kEspNextHeaderIpv4);
  EXPECT_EQ(opened->sequence, 5u);
}

struct GcmEspVector {
  const char* name;
  const char* key;
  const char* salt;
  uint32_t spi;
  uint64_t sequence;
  bool esn;
  const char* iv;
  const char* payload;  // the ESP payload, without padding and trailer
  uint8_t next_header;
  const char* sealed;  // ciphertext || ICV
};

// AES-256 cases of McGrew and Viega's "GCM Test Vectors" for ESP
// (draft-mcgrew-gcm-test-01, the rfc4106 vectors of Linux's testmgr): whole
// ESP packets, without and with ESN. Their trailers say next header 1.
const GcmEspVector kGcmEspVectors[] = {
    {"case3_32bit", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344",
     0x4a2cbfe3, 2, false, "0102030405060708",
     "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b4"
     "01010402",
     1,
     "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f"
     "14e99def842d8e"
     "b335f4eecfdbf831824b4c4915956c96"},
    {"esn", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74",
     0x17405e67, 0x156f3126dd0db99b, true, "616e640169766563",
     "45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d54", 1,
     "f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e"
     "451626c2415771e3b7eebca614c89b35"},
    {"esn_last_sequence", "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961",
     "7475726e", 0x796b6963, std::numeric_limits<uint64_t>::max(), true, "333021696765746d",
     "45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f70"
     "71727374",
     1,
     "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb5"
     "7dbe821dcc63b9"
     "d0937ba2945f669368661a329fb4c053"},
};

TEST(EspVectors, McGrewViegaAes256Gcm) {
  if (!esp_cipher_available(EspCipher::kAes256Gcm)) GTEST_SKIP() << "no AES-NI on this CPU";
  for (const auto& v : kGcmEspVectors) {
    SCOPED_TRACE(v.name);
    const EspKey key = key_from_hex(v.key, v.salt);
    const Bytes payload = from_hex(v.payload);
    Bytes expected(8);
    for (int i = 0; i < 4; ++i) expected[i] = static_cast<uint8_t>(v.spi >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) expected[4 + i] = static_cast<uint8_t>(v.sequence >> (24 - 8 * i));
    const Bytes iv = from_hex(v.iv);
    const Bytes sealed = from_hex(v.sealed);
    expected.insert(expected.end(), iv.begin(), iv.end());
    expected.insert(expected.end(), sealed.begin(), sealed.end());
    EXPECT_EQ(esp_seal_packet(EspCipher::kAes256Gcm, key, v.spi, v.sequence, v.esn,
                              iv_from_hex(v.iv), payload, v.next_header),
              expected);

    EspSaConfig c;
    c.spi = v.spi;
    c.key = key;
    c.esn = v.esn;
    c.initial_sequence = v.sequence - 1;  // the receiver's window sits just below
    EspSa receiver = sa(c);
    auto opened = receiver.open(expected);
    ASSERT_TRUE(opened.ok()) << to_string(opened.reason());
    EXPECT_EQ(opened->data, payload);
    EXPECT_EQ(opened->next_header, v.next_header);
    EXPECT_EQ(opened->sequence, v.sequence);
  }
}

// A full-size VXLAN payload through EspSa::seal itself, with ESN across
// the 2^32 boundary (sequence 0x1_00000003, IV = that number): the packets
// were computed with Python's `cryptography` (OpenSSL) and are given here
// by their SHA-256.
TEST_P(EspBothCiphers, FullSizePacketMatchesAnIndependentImplementation) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP() << "no AES-NI on this CPU";
  EspSaConfig c;
  c.spi = 0x00012345;
  c.cipher = GetParam();
  for (size_t i = 0; i < c.key.key.size(); ++i) c.key.key[i] = static_cast<uint8_t>(i * 7 + 3);
  c.key.salt = {0xc0, 0xff, 0xee, 0x11};
  c.initial_sequence = 0x100000002;
  EspSa sender = sa(c);
  auto packet = sender.seal(filler(1450), kEspNextHeaderUdp);
  ASSERT_TRUE(packet.ok());
  ASSERT_EQ(packet->size(), 1484u);  // 1450 + 34: 1452 is already a multiple of 4
  // SPI, sequence (low 32 bits), IV (the whole 64-bit sequence number).
  EXPECT_EQ(ByteView(packet->data(), 16).to_bytes(), from_hex("0001234500000003"
                                                              "0000000100000003"));
  std::array<uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), packet->data(), packet->size());
  const char* expected = GetParam() == EspCipher::kAes256Gcm
                             ? "b1b625c9f1a5e86dcb13079c2115c0d2cbc7205dcd1a93cda23cd8a55fdf5253"
                             : "336c2fa80cefbe2bfdb944e92668674ee4586cd6fe7a0ad990ca1afe65764d92";
  EXPECT_EQ(ByteView(digest).to_bytes(), from_hex(expected));
}

// --- Framing --------------------------------------------------------------

TEST(EspFraming, OverheadIs34To37BytesAndKeepsFourByteAlignment) {
  EXPECT_EQ(kEspMinOverhead, 34u);
  EXPECT_EQ(kEspMaxOverhead, 37u);
  EspSa sender = sa(config(EspCipher::kChaCha20Poly1305));
  for (size_t n = 0; n < 12; ++n) {
    auto packet = sender.seal(filler(n), kEspNextHeaderUdp);
    ASSERT_TRUE(packet.ok());
    const size_t overhead = packet->size() - n;
    EXPECT_GE(overhead, kEspMinOverhead);
    EXPECT_LE(overhead, kEspMaxOverhead);
    EXPECT_EQ(overhead, kEspMinOverhead + esp_padding_size(n));
    // Header, IV and ICV are multiples of 4; so must the encrypted part be.
    EXPECT_EQ((packet->size() - kEspHeaderSize - kEspIvSize - kEspIcvSize) % 4, 0u) << n;
  }
}

TEST(EspFraming, DatagramsOnPort4500AreTold) {
  EXPECT_EQ(classify_esp_udp(Bytes{0xff}), EspUdpKind::kKeepalive);
  EXPECT_EQ(classify_esp_udp(from_hex("00000000 c0ffee")), EspUdpKind::kIke);
  EXPECT_EQ(classify_esp_udp(from_hex("0000")), EspUdpKind::kMalformed);
  EXPECT_EQ(classify_esp_udp(from_hex("00000101 00000001")), EspUdpKind::kEsp);
  EXPECT_EQ(esp_spi(from_hex("00000101 00000001")), 0x101u);
  EXPECT_EQ(esp_spi(from_hex("00000000 00000001")), std::nullopt);

  EspSa receiver = sa(config(EspCipher::kChaCha20Poly1305));
  EXPECT_EQ(receiver.open(Bytes{0xff}).reason(), EspReject::kNotEsp);
  EXPECT_EQ(receiver.open(Bytes(64, 0)).reason(), EspReject::kNotEsp);
}

TEST(EspSaCreate, RefusesSpiZeroAndLongSequencesWithoutEsn) {
  EspSaConfig c = config(EspCipher::kChaCha20Poly1305, 0);
  EXPECT_EQ(EspSa::create(c).error().message, "esp: SPI 0 is reserved and never sent");
  c = config(EspCipher::kChaCha20Poly1305);
  c.esn = false;
  c.initial_sequence = k2To32;
  EXPECT_FALSE(EspSa::create(c).ok());
}

TEST(EspSaCreate, AesGcmExactlyWhereTheCpuHasIt) {
  EXPECT_TRUE(esp_cipher_available(EspCipher::kChaCha20Poly1305));
  const bool aes = crypto_aead_aes256gcm_is_available() != 0;
  EXPECT_EQ(esp_cipher_available(EspCipher::kAes256Gcm), aes);
  EXPECT_EQ(preferred_esp_cipher(), aes ? EspCipher::kAes256Gcm : EspCipher::kChaCha20Poly1305);
  EXPECT_EQ(EspSa::create(config(EspCipher::kAes256Gcm)).ok(), aes);
}

TEST(EspReject, NamesAreDistinctMetricLabels) {
  std::set<std::string> names;
  for (size_t i = 0; i < kEspRejectReasons; ++i) {
    names.insert(to_string(static_cast<EspReject>(i)));
  }
  EXPECT_EQ(names.size(), kEspRejectReasons);
  EXPECT_EQ(names.count("unknown"), 0u);
}

// --- Round trips and rejections -------------------------------------------

TEST_P(EspBothCiphers, RoundTripKeepsPayloadNextHeaderAndCountsFromOne) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP();
  EspSa sender = sa(config(GetParam()));
  EspSa receiver = sa(config(GetParam()));
  for (size_t n : {0, 1, 2, 3, 4, 5, 100, 1450, 9000}) {
    auto packet = sender.seal(filler(n), static_cast<uint8_t>(n % 256));
    ASSERT_TRUE(packet.ok());
    auto opened = receiver.open(*packet);
    ASSERT_TRUE(opened.ok()) << n << ": " << to_string(opened.reason());
    EXPECT_EQ(opened->data, filler(n));
    EXPECT_EQ(opened->next_header, n % 256);
    EXPECT_EQ(opened->sequence, sender.last_sequence_sent());
  }
  EXPECT_EQ(sender.last_sequence_sent(), 9u);
  EXPECT_EQ(receiver.replay_window().top(), 9u);
}

// Every byte of a packet, flipped: the SPI says whose it is, everything
// else is authenticated (the sequence number through the AAD, the IV
// through the nonce). None opens, and none moves the window: the genuine
// packet still opens afterwards.
TEST_P(EspBothCiphers, EveryTamperedByteIsRejected) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP();
  EspSa sender = sa(config(GetParam()));
  EspSa receiver = sa(config(GetParam()));
  const Bytes packet = *sender.seal(filler(61), kEspNextHeaderUdp);
  const size_t icv = packet.size() - kEspIcvSize;
  for (size_t i = 0; i < packet.size(); ++i) {
    for (uint8_t flip : {0x01, 0x80}) {
      Bytes forged = packet;
      forged[i] ^= flip;
      auto opened = receiver.open(forged);
      ASSERT_FALSE(opened.ok()) << "byte " << i;
      if (i < 4) {
        EXPECT_EQ(opened.reason(), EspReject::kWrongSpi) << i;
      } else if (i < 8 && forged[7] == 0 && forged[4] == 0 && forged[5] == 0 && forged[6] == 0) {
        EXPECT_EQ(opened.reason(), EspReject::kBehindWindow) << i;  // sequence 1 became 0
      } else {
        EXPECT_EQ(opened.reason(), EspReject::kAuthFailed) << "byte " << i << " ("
                                                           << (i < 8     ? "sequence"
                                                               : i < 16  ? "IV"
                                                               : i < icv ? "ciphertext"
                                                                         : "ICV")
                                                           << ")";
      }
    }
  }
  EXPECT_EQ(receiver.replay_window().top(), 0u);
  EXPECT_TRUE(receiver.open(packet).ok());
}

TEST_P(EspBothCiphers, EveryTruncationIsRejected) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP();
  EspSa sender = sa(config(GetParam()));
  EspSa receiver = sa(config(GetParam()));
  const Bytes packet = *sender.seal(filler(40), kEspNextHeaderUdp);
  for (size_t n = 0; n < packet.size(); ++n) {
    auto opened = receiver.open(ByteView(packet.data(), n));
    ASSERT_FALSE(opened.ok()) << n;
    EXPECT_EQ(opened.reason(),
              n < kEspMinPacketSize ? EspReject::kTruncated : EspReject::kAuthFailed)
        << n;
  }
  // Extra bytes at the end are no better.
  Bytes longer = packet;
  longer.push_back(0);
  EXPECT_EQ(receiver.open(longer).reason(), EspReject::kAuthFailed);
}

TEST_P(EspBothCiphers, WrongKeyWrongSaltOrWrongSpiIsRejected) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP();
  EspSa sender = sa(config(GetParam()));
  const Bytes packet = *sender.seal(filler(100), kEspNextHeaderUdp);
  EspSa wrong_key = sa(config(GetParam(), 0x12345678, 0x43));
  EXPECT_EQ(wrong_key.open(packet).reason(), EspReject::kAuthFailed);
  EspSaConfig salted = config(GetParam());
  salted.key.salt[3] ^= 1;
  EspSa wrong_salt = sa(salted);
  EXPECT_EQ(wrong_salt.open(packet).reason(), EspReject::kAuthFailed);
  EspSa wrong_spi = sa(config(GetParam(), 0x12345679));
  EXPECT_EQ(wrong_spi.open(packet).reason(), EspReject::kWrongSpi);
  // Sealed with ESN, opened without: the AAD differs.
  EspSaConfig no_esn = config(GetParam());
  no_esn.esn = false;
  EspSa wrong_esn = sa(no_esn);
  EXPECT_EQ(wrong_esn.open(packet).reason(), EspReject::kAuthFailed);
}

TEST(EspReject, TheOtherCipherDoesNotOpenIt) {
  if (!esp_cipher_available(EspCipher::kAes256Gcm)) GTEST_SKIP();
  EspSa sender = sa(config(EspCipher::kAes256Gcm));
  EspSa receiver = sa(config(EspCipher::kChaCha20Poly1305));
  EXPECT_EQ(receiver.open(*sender.seal(filler(10), 17)).reason(), EspReject::kAuthFailed);
}

// A packet with the right key but a broken trailer, sealed by hand: only a
// holder of the key can make one, and it is still refused.
Bytes seal_plaintext(const EspSaConfig& c, uint32_t sequence, const Bytes& plain) {
  Bytes packet = from_hex("12345678");
  for (int i = 0; i < 4; ++i) packet.push_back(static_cast<uint8_t>(sequence >> (24 - 8 * i)));
  const Bytes iv = from_hex("0000000000000000");
  packet.insert(packet.end(), iv.begin(), iv.end());
  packet[15] = static_cast<uint8_t>(sequence);
  const Bytes aad = {0x12, 0x34, 0x56,      0x78,      0,         0,
                     0,    0,    packet[4], packet[5], packet[6], packet[7]};
  Bytes nonce(c.key.salt.begin(), c.key.salt.end());
  nonce.insert(nonce.end(), packet.begin() + 8, packet.begin() + 16);
  Bytes sealed(plain.size() + 16);
  unsigned long long n = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(sealed.data(), &n, plain.data(), plain.size(),
                                            aad.data(), aad.size(), nullptr, nonce.data(),
                                            c.key.key.data());
  packet.insert(packet.end(), sealed.begin(), sealed.end());
  return packet;
}

TEST(EspReject, AuthenticatedButMalformedTrailer) {
  const EspSaConfig c = config(EspCipher::kChaCha20Poly1305);
  EspSa receiver = sa(c);
  // Well formed, by hand: payload "ab", no padding (2 + 2 is aligned).
  auto good = receiver.open(seal_plaintext(c, 1, {'a', 'b', 0, 17}));
  ASSERT_TRUE(good.ok()) << to_string(good.reason());
  EXPECT_EQ(good->data, (Bytes{'a', 'b'}));
  // Pad length larger than what precedes it.
  EXPECT_EQ(receiver.open(seal_plaintext(c, 2, {'a', 'b', 3, 17})).reason(),
            EspReject::kBadTrailer);
  // Padding that is not 1, 2, 3, ...
  EXPECT_EQ(receiver.open(seal_plaintext(c, 3, {'a', 'b', 'c', 'd', 9, 9, 2, 17})).reason(),
            EspReject::kBadTrailer);
  // Neither moved the window: 2 and 3 are still unseen.
  EXPECT_TRUE(receiver.open(seal_plaintext(c, 2, {'a', 'b', 0, 17})).ok());
}

// --- Replay window through open() -----------------------------------------

// Newest first: 300 down to 45 are inside the 256-wide window, 44 and
// below are not. With ESN an old packet cannot be told from one 2^32
// ahead (RFC 4303 Appendix A2.2 reads its low bits as the next block), so
// it fails the ICV; without ESN it is plainly behind the window.
TEST(EspReplay, DuplicatesAreRefusedAndReorderingInsideTheWindowIsNot) {
  for (bool esn : {true, false}) {
    SCOPED_TRACE(esn ? "ESN" : "32-bit");
    EspSaConfig c = config(EspCipher::kChaCha20Poly1305);
    c.esn = esn;
    EspSa sender = sa(c);
    EspSa receiver = sa(c);
    std::vector<Bytes> packets;
    packets.reserve(300);
    for (int i = 0; i < 300; ++i) packets.push_back(*sender.seal(filler(20), 17));
    for (int s = 300; s >= 1; --s) {
      auto opened = receiver.open(packets[static_cast<size_t>(s - 1)]);
      if (s >= 45) {
        ASSERT_TRUE(opened.ok()) << s;
        EXPECT_EQ(opened->sequence, static_cast<uint64_t>(s));
      } else {
        ASSERT_FALSE(opened.ok()) << s;
        EXPECT_EQ(opened.reason(), esn ? EspReject::kAuthFailed : EspReject::kBehindWindow) << s;
      }
    }
    for (int s : {300, 200, 45}) {
      EXPECT_EQ(receiver.open(packets[static_cast<size_t>(s - 1)]).reason(), EspReject::kReplayed);
    }
    EXPECT_EQ(receiver.replay_window().top(), 300u);
  }
}

TEST(EspReplay, ShuffledDeliveryWithinTheWindowLosesNothing) {
  EspSa sender = sa(config(EspCipher::kChaCha20Poly1305));
  EspSa receiver = sa(config(EspCipher::kChaCha20Poly1305));
  std::vector<Bytes> packets;
  packets.reserve(2048);
  for (int i = 0; i < 2048; ++i) packets.push_back(*sender.seal(filler(8), 17));
  // Shuffle within blocks of 128: never more than 127 out of place.
  Random random(9);
  for (size_t b = 0; b < packets.size(); b += 128) {
    std::shuffle(packets.begin() + static_cast<ptrdiff_t>(b),
                 packets.begin() + static_cast<ptrdiff_t>(b + 128), random);
  }
  std::set<uint64_t> seen;
  for (const Bytes& p : packets) {
    auto opened = receiver.open(p);
    ASSERT_TRUE(opened.ok()) << to_string(opened.reason());
    seen.insert(opened->sequence);
  }
  EXPECT_EQ(seen.size(), 2048u);
  // Played again, none opens: the last 256 are refused as replays, the
  // older ones as described above.
  for (const Bytes& p : packets) {
    auto again = receiver.open(p);
    ASSERT_FALSE(again.ok());
    const uint32_t s = (uint32_t{p[6]} << 8) | p[7];  // below 2^16 here
    if (s > 2048 - 256) {
      EXPECT_EQ(again.reason(), EspReject::kReplayed) << s;
    }
  }
}

TEST_P(EspBothCiphers, SequenceNumbersWrapInto64BitsWithEsn) {
  if (!esp_cipher_available(GetParam())) GTEST_SKIP();
  EspSaConfig c = config(GetParam());
  c.initial_sequence = k2To32 - 3;
  EspSa sender = sa(c);
  EspSa receiver = sa(c);
  std::vector<Bytes> packets;
  packets.reserve(6);
  for (int i = 0; i < 6; ++i) packets.push_back(*sender.seal(filler(30), 17));
  // On the wire: ...fffffffe, ffffffff, 00000000, 00000001, ...
  EXPECT_EQ(ByteView(packets[1].data() + 4, 4).to_bytes(), from_hex("ffffffff"));
  EXPECT_EQ(ByteView(packets[2].data() + 4, 4).to_bytes(), from_hex("00000000"));
  for (size_t i : {0, 3, 1, 5, 2, 4}) {
    auto opened = receiver.open(packets[i]);
    ASSERT_TRUE(opened.ok()) << i << ": " << to_string(opened.reason());
    EXPECT_EQ(opened->sequence, k2To32 - 2 + i);
  }
  EXPECT_EQ(receiver.replay_window().top(), k2To32 + 3);
  EXPECT_EQ(receiver.open(packets[2]).reason(), EspReject::kReplayed);
}

TEST(EspReplay, TheImpliedHighBitsAreAuthenticated) {
  // Sealed at 2^32 + 5; a receiver whose window is still near 0 reads the
  // low bits as 5, and the ICV (over the high bits) refuses it.
  EspSaConfig c = config(EspCipher::kChaCha20Poly1305);
  c.initial_sequence = k2To32 + 4;
  EspSa sender = sa(c);
  EspSa receiver = sa(config(EspCipher::kChaCha20Poly1305));
  EXPECT_EQ(receiver.open(*sender.seal(filler(30), 17)).reason(), EspReject::kAuthFailed);
  EXPECT_EQ(receiver.replay_window().top(), 0u);
}

TEST(EspSeal, StopsRatherThanWrap) {
  EspSaConfig c = config(EspCipher::kChaCha20Poly1305);
  c.esn = false;
  c.initial_sequence = 0xfffffffe;
  EspSa narrow = sa(c);
  EXPECT_TRUE(narrow.seal(filler(1), 17).ok());
  auto spent = narrow.seal(filler(1), 17);
  ASSERT_FALSE(spent.ok());
  EXPECT_EQ(spent.error().message,
            "esp: SA 305419896 has used every sequence number; it must be replaced");
  c.esn = true;
  c.initial_sequence = std::numeric_limits<uint64_t>::max() - 1;
  EspSa wide = sa(c);
  EXPECT_TRUE(wide.seal(filler(1), 17).ok());
  EXPECT_FALSE(wide.seal(filler(1), 17).ok());
}

}  // namespace
}  // namespace loom::crypto
