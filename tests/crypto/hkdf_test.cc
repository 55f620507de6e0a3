#include "model/crypto/hkdf.h"

#include <gtest/gtest.h>

#include "tests/wire/hex.h"

namespace loom::crypto {
namespace {

using wire::testing::from_hex;

Bytes counting(uint8_t first, size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

// RFC 5869 Appendix A.1: the basic case.
TEST(Hkdf, Rfc5869TestCase1) {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = from_hex("000102030405060708090a0b0c");
  const Bytes info = from_hex("f0f1f2f3f4f5f6f7f8f9");
  const HkdfPrk prk = hkdf_extract(salt, ikm);
  EXPECT_EQ(ByteView(prk).to_bytes(),
            from_hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5"));
  auto okm = hkdf_sha256(ikm, salt, info, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(*okm, from_hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
                           "34007208d5b887185865"));
}

// A.2: 80-byte inputs (a salt longer than HMAC's block), 82 bytes out
// (three HMAC blocks, the last one cut).
TEST(Hkdf, Rfc5869TestCase2LongInputs) {
  const Bytes ikm = counting(0x00, 80);
  const Bytes salt = counting(0x60, 80);
  const Bytes info = counting(0xb0, 80);
  EXPECT_EQ(ByteView(hkdf_extract(salt, ikm)).to_bytes(),
            from_hex("06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244"));
  auto okm = hkdf_sha256(ikm, salt, info, 82);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(*okm, from_hex("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                           "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                           "cc30c58179ec3e87c14c01d5c1f3434f1d87"));
}

// A.3: no salt and no info.
TEST(Hkdf, Rfc5869TestCase3EmptySaltAndInfo) {
  const Bytes ikm(22, 0x0b);
  EXPECT_EQ(ByteView(hkdf_extract({}, ikm)).to_bytes(),
            from_hex("19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"));
  auto okm = hkdf_sha256(ikm, {}, {}, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(*okm, from_hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
                           "9d201395faa4b61a96c8"));
}

TEST(Hkdf, ShorterOutputIsAPrefixOfLonger) {
  const Bytes ikm(22, 0x0b);
  auto long_okm = hkdf_sha256(ikm, {}, {}, 42);
  auto short_okm = hkdf_sha256(ikm, {}, {}, 5);
  ASSERT_TRUE(long_okm.ok() && short_okm.ok());
  EXPECT_EQ(*short_okm, Bytes(long_okm->begin(), long_okm->begin() + 5));
}

TEST(Hkdf, RefusesMoreThan255Blocks) {
  const HkdfPrk prk = hkdf_extract({}, Bytes(22, 0x0b));
  auto max = hkdf_expand(prk, {}, kHkdfMaxOutput);
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size(), 8160u);
  auto too_long = hkdf_expand(prk, {}, kHkdfMaxOutput + 1);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().message, "hkdf: 8161 bytes asked for, at most 8160 can be derived");
}

}  // namespace
}  // namespace loom::crypto
