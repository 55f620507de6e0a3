#include "model/wire/checksum.h"

#include <bit>
#include <cstring>

namespace loom::wire {
namespace {

uint64_t fold16(uint64_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return s;
}

uint16_t swap16(uint64_t v) { return static_cast<uint16_t>(((v & 0xFF) << 8) | (v >> 8)); }

// Ones' complement sum of data read as native-order words, folded to 16
// bits. Summing native words and byte-swapping the result equals summing
// big-endian words (RFC 1071, 2(B)), and lets the loop load 4 bytes at a
// time without swapping each.
uint16_t native_sum(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  // 2^32 four-byte words before this could overflow: no datagram is that big.
  while (n >= 16) {
    uint32_t w[4];
    std::memcpy(w, p, sizeof w);
    s += uint64_t{w[0]} + w[1] + w[2] + w[3];
    p += 16;
    n -= 16;
  }
  while (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, sizeof w);
    s += w;
    p += 4;
    n -= 4;
  }
  if (n >= 2) {
    uint16_t w;
    std::memcpy(&w, p, sizeof w);
    s += w;
    p += 2;
    n -= 2;
  }
  if (n == 1) {
    // The last byte is the high byte of a word padded with zero.
    const uint8_t pad[2] = {p[0], 0};
    uint16_t w;
    std::memcpy(&w, pad, sizeof w);
    s += w;
  }
  return static_cast<uint16_t>(fold16(s));
}

}  // namespace

InternetChecksum& InternetChecksum::add(ByteView data) {
  if (data.empty()) return *this;
  uint64_t s = native_sum(data.data(), data.size());
  if constexpr (std::endian::native == std::endian::little) s = swap16(s);
  // A piece that starts at an odd offset has its bytes in the other halves
  // of the words: its sum is the byte-swapped one.
  if (odd_) s = swap16(s);
  sum_ += s;
  if (data.size() % 2 != 0) odd_ = !odd_;
  return *this;
}

InternetChecksum& InternetChecksum::add16(uint16_t value) {
  sum_ += odd_ ? swap16(value) : value;
  return *this;
}

InternetChecksum& InternetChecksum::add32(uint32_t value) {
  add16(static_cast<uint16_t>(value >> 16));
  return add16(static_cast<uint16_t>(value));
}

uint16_t InternetChecksum::finish() const { return static_cast<uint16_t>(~fold16(sum_)); }

uint16_t internet_checksum(ByteView data) { return InternetChecksum().add(data).finish(); }

InternetChecksum& add_ipv4_pseudo_header(InternetChecksum& sum, Ipv4 src, Ipv4 dst,
                                         uint8_t protocol, uint16_t length) {
  return sum.add32(src.value).add32(dst.value).add16(protocol).add16(length);
}

}  // namespace loom::wire
