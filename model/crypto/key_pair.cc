#include "model/crypto/key_pair.h"

#include <sodium.h>

#include "model/crypto/sodium.h"

namespace loom::crypto {

KeyPair KeyPair::from_seed(const Seed& seed) {
  ensure_sodium();
  KeyPair pair;
  // Cannot fail for a 32-byte seed: it hashes the seed into the secret key.
  crypto_box_seed_keypair(pair.public_key.data(), pair.secret_key.data(), seed.data());
  return pair;
}

KeyPair KeyPair::generate(Random& random) {
  Seed seed{};
  for (size_t i = 0; i < seed.size(); i += 8) {
    uint64_t word = random.next();
    for (size_t j = 0; j < 8; ++j) seed[i + j] = static_cast<uint8_t>(word >> (8 * j));
  }
  KeyPair pair = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

}  // namespace loom::crypto
