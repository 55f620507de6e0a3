#include "model/crypto/sodium.h"

#include <cstdlib>

#include <sodium.h>

namespace loom::crypto {

void ensure_sodium() {
  // A function-local static is initialised exactly once, even with threads
  // (the live backend's tests run several hosts). sodium_init() returns 1
  // when already initialised, which is fine too.
  static const bool initialised = [] { return sodium_init() >= 0; }();
  if (!initialised) std::abort();
}

}  // namespace loom::crypto
