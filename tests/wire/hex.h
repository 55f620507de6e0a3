// Test helpers: bytes from hex text as tcpdump -xx prints it, and the
// message of a failed Result.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "model/bytes.h"
#include "model/result.h"

namespace loom::wire::testing {

// "0200 0000 0002 ..." -> bytes. Spaces and newlines are ignored. Throws on
// anything else: a typo in a test vector should fail loudly.
inline Bytes from_hex(std::string_view text) {
  Bytes out;
  int pending = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else if (c == ' ' || c == '\n' || c == '\t') {
      continue;
    } else {
      throw std::invalid_argument("from_hex: bad character");
    }
    if (pending < 0) {
      pending = v;
    } else {
      out.push_back(static_cast<uint8_t>(pending * 16 + v));
      pending = -1;
    }
  }
  if (pending >= 0) throw std::invalid_argument("from_hex: odd number of digits");
  return out;
}

// The error message, or "<ok>" when r holds a value: lets a test compare
// messages with EXPECT_EQ and still read well when decoding succeeded.
template <typename T>
std::string error_of(const Result<T>& r) {
  return r.ok() ? std::string("<ok>") : r.error().message;
}

}  // namespace loom::wire::testing
