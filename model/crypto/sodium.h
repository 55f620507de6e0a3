// libsodium's one-time initialisation, done once and safely.
//
// Every function of model/crypto/ calls ensure_sodium() before using
// libsodium, so callers never have to remember sodium_init().
#pragma once

namespace loom::crypto {

// Initialises libsodium on first call (thread-safe; later calls are free).
// Aborts only if libsodium cannot initialise at all, which leaves no crypto.
void ensure_sodium();

}  // namespace loom::crypto
