#include "model/crypto/key_pair.h"

#include <gtest/gtest.h>

#include "model/random.h"

namespace loom::crypto {
namespace {

TEST(KeyPair, SameSeedSamePair) {
  Seed seed{};
  seed[0] = 7;
  EXPECT_EQ(KeyPair::from_seed(seed).public_key, KeyPair::from_seed(seed).public_key);
  seed[31] = 1;
  Seed other{};
  other[0] = 7;
  EXPECT_NE(KeyPair::from_seed(seed).public_key, KeyPair::from_seed(other).public_key);
}

TEST(KeyPair, GenerateIsDeterministicInTheRandomSeed) {
  Random a(42), b(42), c(43);
  const KeyPair ka = KeyPair::generate(a);
  const KeyPair kb = KeyPair::generate(b);
  const KeyPair kc = KeyPair::generate(c);
  EXPECT_EQ(ka.public_key, kb.public_key);
  EXPECT_EQ(ka.secret_key, kb.secret_key);
  EXPECT_NE(ka.public_key, kc.public_key);
  // Consecutive draws give fresh pairs (one per connection).
  EXPECT_NE(KeyPair::generate(a).public_key, ka.public_key);
}

}  // namespace
}  // namespace loom::crypto
