#include "model/crypto/session_key.h"

#include <algorithm>
#include <string_view>

#include <gtest/gtest.h>

#include "model/random.h"
#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

template <size_t N>
std::array<uint8_t, N> array_from_hex(std::string_view hex) {
  const Bytes b = from_hex(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(b.size(), N);
  std::copy_n(b.begin(), std::min(N, b.size()), out.begin());
  return out;
}

// RFC 7748 section 6.1's key pairs (NaCl's alice and bob).
const auto kAliceSecret =
    array_from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
const auto kAlicePublic =
    array_from_hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
const auto kBobSecret =
    array_from_hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
const auto kBobPublic =
    array_from_hex<32>("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");

ByteView text(std::string_view s) { return ByteView(s); }

// SHA-256(crypto_box_beforenm(bob public, alice secret) || "s3cret"), the
// beforenm computed independently (X25519 by python3-cryptography, HSalsa20
// in Python; it reproduces NaCl's published "firstkey" 1b275564...).
TEST(SessionKey, KnownAnswerWithPassword) {
  auto key = derive_session_key(kBobPublic, kAliceSecret, text("s3cret"));
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->view().to_bytes(),
            from_hex("84b1c8270523a2f8f3ee589dda84e1a7cab5d0d1faa4e8413d09d18ac0707b63"));
}

TEST(SessionKey, KnownAnswerWithoutPassword) {
  auto key = derive_session_key(kBobPublic, kAliceSecret, ByteView{});
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->view().to_bytes(),
            from_hex("c49dd01233796e3642bc1b9829070ef0a64eb0dd915b72ec3f3657529e5f6494"));
}

TEST(SessionKey, BothEndsAgreeAndThePasswordMatters) {
  auto alice = derive_session_key(kBobPublic, kAliceSecret, text("s3cret"));
  auto bob = derive_session_key(kAlicePublic, kBobSecret, text("s3cret"));
  auto mallory = derive_session_key(kAlicePublic, kBobSecret, text("guess"));
  ASSERT_TRUE(alice.ok() && bob.ok() && mallory.ok());
  EXPECT_EQ(*alice, *bob);
  EXPECT_FALSE(*alice == *mallory);
}

TEST(SessionKey, FreshPairsFromRandomAgree) {
  Random r(1);
  const KeyPair a = KeyPair::generate(r);
  const KeyPair b = KeyPair::generate(r);
  auto ka = derive_session_key(b.public_key, a.secret_key, text("pw"));
  auto kb = derive_session_key(a.public_key, b.secret_key, text("pw"));
  ASSERT_TRUE(ka.ok() && kb.ok());
  EXPECT_EQ(*ka, *kb);
}

TEST(SessionKey, LowOrderPublicKeyIsAnError) {
  const PublicKey zero{};  // the identity: every shared secret would be 0
  auto key = derive_session_key(zero, kAliceSecret, text("pw"));
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("low order"), std::string::npos);
}

TEST(ConstantTimeEqual, ComparesSizeAndBytes) {
  const Bytes a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(constant_time_equal(a, b));
  EXPECT_FALSE(constant_time_equal(a, c));
  EXPECT_FALSE(constant_time_equal(a, d));
  EXPECT_TRUE(constant_time_equal(ByteView{}, ByteView{}));
}

}  // namespace
}  // namespace loom::crypto
