// Curve25519 key pairs for NaCl box (crypto_box), drawn from loom::Random.
//
// Weave makes a fresh pair for every TCP connection when a password is set
// (weave-protocol.md 4.1). Loom derives it from 32 bytes of the Host's
// Random, never from the OS, so a simulation with the same seed puts the
// same bytes on the wire.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "model/random.h"

namespace loom::crypto {

inline constexpr size_t kPublicKeySize = 32;
inline constexpr size_t kSecretKeySize = 32;
inline constexpr size_t kSeedSize = 32;

using PublicKey = std::array<uint8_t, kPublicKeySize>;
using SecretKey = std::array<uint8_t, kSecretKeySize>;
using Seed = std::array<uint8_t, kSeedSize>;

struct KeyPair {
  PublicKey public_key{};
  SecretKey secret_key{};

  // crypto_box_seed_keypair: the same seed, the same pair.
  static KeyPair from_seed(const Seed& seed);
  // A pair from 32 bytes drawn from random.
  static KeyPair generate(Random& random);
};

}  // namespace loom::crypto
