// Helpers shared by the fuzz targets: a failed check aborts, which is what
// libFuzzer reports as a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "model/bytes.h"

namespace loom::wire::fuzz {

inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
  }
}

// view lies inside [data, data + size): decoders only hand out views of
// their input.
inline bool inside(ByteView view, const uint8_t* data, size_t size) {
  return view.empty() || (view.data() >= data && view.data() + view.size() <= data + size);
}

// Ones' complement has two zeros: a checksum field of 0xffff verifies where
// the computed value is 0x0000 (and an encoder writes the latter). Compares
// [0, n) of a and b with that one allowance for the field at checksum_at.
inline bool same_with_checksum(const uint8_t* a, const uint8_t* b, size_t n, size_t checksum_at) {
  for (size_t i = 0; i < n; ++i) {
    if (i == checksum_at || i == checksum_at + 1) continue;
    if (a[i] != b[i]) return false;
  }
  const unsigned x = (unsigned{a[checksum_at]} << 8) | a[checksum_at + 1];
  const unsigned y = (unsigned{b[checksum_at]} << 8) | b[checksum_at + 1];
  return x == y || (x == 0xFFFF && y == 0) || (x == 0 && y == 0xFFFF);
}

}  // namespace loom::wire::fuzz
