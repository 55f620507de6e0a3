#include "model/crypto/ipsec.h"

#include <set>

#include <gtest/gtest.h>

#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

constexpr uint64_t kPeerA = 0x0a0000000001;
constexpr uint64_t kPeerB = 0x0b0000000002;

SessionKey counting_key(uint8_t first = 0) {
  SessionKey key;
  for (size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<uint8_t>(first + i);
  return key;
}

// HKDF-SHA256(IKM = 00..1f, salt = 40..5f, info = 00 00 0a 1b 2c 3d 4e 5f),
// 36 bytes, computed with Python's hmac and hashlib (not libsodium).
TEST(DeriveEspKey, IsWeavesHkdfOfSessionKeyNonceAndPeerName) {
  IpsecNonce nonce{};
  for (size_t i = 0; i < nonce.size(); ++i) nonce[i] = static_cast<uint8_t>(0x40 + i);
  const EspKey key = derive_esp_key(counting_key(), nonce, 0x0a1b2c3d4e5f);
  EXPECT_EQ(ByteView(key.key).to_bytes(),
            from_hex("a16b9bd479e578e0ad3c19fde4e6238bdea73c219aed9e5f656328f2602574c0"));
  EXPECT_EQ(ByteView(key.salt).to_bytes(), from_hex("b0430179"));
}

TEST(DeriveEspKey, EachInputChangesTheKey) {
  IpsecNonce nonce{};
  const EspKey base = derive_esp_key(counting_key(), nonce, kPeerA);
  EXPECT_NE(derive_esp_key(counting_key(1), nonce, kPeerA).key, base.key);
  EXPECT_NE(derive_esp_key(counting_key(), nonce, kPeerB).key, base.key);
  nonce[31] = 1;
  EXPECT_NE(derive_esp_key(counting_key(), nonce, kPeerA).key, base.key);
}

TEST(InitSaRemote, IsNonceThenSpiPaddedTo64Bytes) {
  InitSaRemote m;
  for (size_t i = 0; i < m.nonce.size(); ++i) m.nonce[i] = static_cast<uint8_t>(i);
  m.spi = 0xc0ffee01;
  EXPECT_EQ(m.encode(), from_hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                 "c0ffee01000000000000000000000000000000000000000000000000000000"
                                 "00"));
  auto back = InitSaRemote::decode(m.encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->nonce, m.nonce);
  EXPECT_EQ(back->spi, m.spi);
}

TEST(InitSaRemote, DecodeRefusesWrongSizesAndReservedSpis) {
  InitSaRemote m;
  m.spi = 0x1000;
  Bytes bytes = m.encode();
  EXPECT_EQ(InitSaRemote::decode(ByteView(bytes.data(), 63)).error().message,
            "ipsec: InitSARemote of 63 bytes, expected 64");
  bytes.push_back(0);
  EXPECT_FALSE(InitSaRemote::decode(bytes).ok());
  m.spi = 0xff;
  EXPECT_EQ(InitSaRemote::decode(m.encode()).error().message,
            "ipsec: InitSARemote carries SPI 255, which is reserved (below 256)");
  // Like Weave, the 28 bytes of padding are not read.
  m.spi = 0x1000;
  bytes = m.encode();
  bytes[63] = 0x5a;
  EXPECT_TRUE(InitSaRemote::decode(bytes).ok());
}

TEST(AllocateSpi, DrawsOutsideTheReservedRangeAndAvoidsTakenOnes) {
  Random random(7);
  std::set<uint32_t> taken;
  for (int i = 0; i < 1000; ++i) {
    auto spi = allocate_spi(random, [&](uint32_t s) { return taken.count(s) > 0; });
    ASSERT_TRUE(spi.ok());
    EXPECT_GE(*spi, kMinSpi);
    EXPECT_TRUE(taken.insert(*spi).second) << "SPI " << *spi << " handed out twice";
  }
}

TEST(AllocateSpi, TheSameSeedGivesTheSameSpis) {
  Random one(7), two(7);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*allocate_spi(one, nullptr), *allocate_spi(two, nullptr));
}

TEST(AllocateSpi, FailsWhenEverySpiIsTaken) {
  Random random(1);
  auto spi = allocate_spi(random, [](uint32_t) { return true; });
  ASSERT_FALSE(spi.ok());
  EXPECT_EQ(spi.error().message, "ipsec: no free SPI after 64 draws");
}

// Both peers of one connection, as Weave runs InitSALocal on each and
// InitSARemote on the message each receives.
struct Sas {
  EspSa a_out, a_in, b_out, b_in;
};

Sas establish(const SessionKey& key_a, const SessionKey& key_b, EspCipher cipher) {
  Random ra(11), rb(22);
  auto a_local = init_sa_local(key_a, kPeerA, cipher, ra, nullptr);
  auto b_local = init_sa_local(key_b, kPeerB, cipher, rb, nullptr);
  auto a_remote = init_sa_remote(key_a, kPeerB, b_local->message.encode(), cipher);
  auto b_remote = init_sa_remote(key_b, kPeerA, a_local->message.encode(), cipher);
  return Sas{*EspSa::create(*a_remote), *EspSa::create(a_local->config), *EspSa::create(*b_remote),
             *EspSa::create(b_local->config)};
}

TEST(IpsecSetup, BothEndsOfEachDirectionAgreeAndTheDirectionsDiffer) {
  Random ra(11), rb(22);
  const SessionKey key = counting_key();
  auto a_local = init_sa_local(key, kPeerA, EspCipher::kChaCha20Poly1305, ra, nullptr);
  auto b_local = init_sa_local(key, kPeerB, EspCipher::kChaCha20Poly1305, rb, nullptr);
  ASSERT_TRUE(a_local.ok() && b_local.ok());
  auto a_out = init_sa_remote(key, kPeerB, b_local->message.encode(), EspCipher::kChaCha20Poly1305);
  ASSERT_TRUE(a_out.ok());
  // A's outbound SA is B's inbound SA: same SPI, same key and salt.
  EXPECT_EQ(a_out->spi, b_local->config.spi);
  EXPECT_EQ(a_out->key.key, b_local->config.key.key);
  EXPECT_EQ(a_out->key.salt, b_local->config.key.salt);
  EXPECT_EQ(a_out->key.key, derive_esp_key(key, b_local->message.nonce, kPeerB).key);
  // The other direction has its own SPI and key.
  EXPECT_NE(a_local->config.spi, b_local->config.spi);
  EXPECT_NE(a_local->config.key.key, b_local->config.key.key);
}

TEST(IpsecSetup, PacketsFlowBothWays) {
  Sas s = establish(counting_key(), counting_key(), EspCipher::kChaCha20Poly1305);
  const Bytes hello = {'h', 'e', 'l', 'l', 'o'};
  auto ab = s.b_in.open(*s.a_out.seal(hello, kEspNextHeaderUdp));
  ASSERT_TRUE(ab.ok());
  EXPECT_EQ(ab->data, hello);
  auto ba = s.a_in.open(*s.b_out.seal(hello, kEspNextHeaderUdp));
  ASSERT_TRUE(ba.ok());
  EXPECT_EQ(ba->data, hello);
  // A packet sent one way is not accepted coming back the other way.
  EXPECT_EQ(s.a_in.open(*s.a_out.seal(hello, kEspNextHeaderUdp)).reason(), EspReject::kWrongSpi);
}

TEST(IpsecSetup, ADifferentPasswordMeansADifferentKeyAndNothingOpens) {
  // Different session keys stand for a man in the middle without the
  // password: the SPIs line up, the keys do not.
  Sas s = establish(counting_key(), counting_key(1), EspCipher::kChaCha20Poly1305);
  auto opened = s.b_in.open(*s.a_out.seal(Bytes{1, 2, 3}, kEspNextHeaderUdp));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.reason(), EspReject::kAuthFailed);
}

}  // namespace
}  // namespace loom::crypto
