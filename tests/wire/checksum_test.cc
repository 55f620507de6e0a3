#include "model/wire/checksum.h"

#include <gtest/gtest.h>

#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::from_hex;

// Straight from RFC 1071: 16-bit big-endian words, end-around carry.
uint16_t reference_checksum(const Bytes& data) {
  uint32_t sum = 0;
  for (size_t i = 0; i < data.size(); i += 2) {
    uint32_t word = uint32_t{data[i]} << 8;
    if (i + 1 < data.size()) word |= data[i + 1];
    sum += word;
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

Bytes pseudo_random_bytes(size_t n, uint32_t seed) {
  Bytes out(n);
  for (auto& b : out) {
    seed = seed * 1664525u + 1013904223u;
    b = static_cast<uint8_t>(seed >> 24);
  }
  return out;
}

TEST(InternetChecksum, Rfc1071Example) {
  // RFC 1071 section 3: these words sum to 0xddf2.
  EXPECT_EQ(internet_checksum(from_hex("0001 f203 f4f5 f6f7")), 0x220D);
}

TEST(InternetChecksum, Ipv4HeaderExample) {
  // A well-known header (192.168.0.1 -> 192.168.0.199, UDP) whose checksum
  // field reads 0xb861.
  auto header = from_hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
  EXPECT_EQ(internet_checksum(header), 0xB861);
  header[10] = 0xB8;
  header[11] = 0x61;
  EXPECT_EQ(internet_checksum(header), 0) << "a correct header sums to zero";
}

TEST(InternetChecksum, OddLengthPadsTheLastByteAsAHighByte) {
  EXPECT_EQ(internet_checksum(from_hex("01")), 0xFEFF);
  EXPECT_EQ(internet_checksum(from_hex("0001 f203 f4f5 f6f7 01")), 0x210D);
}

TEST(InternetChecksum, EmptyAndAllZeroInputs) {
  EXPECT_EQ(internet_checksum(ByteView()), 0xFFFF);
  EXPECT_EQ(internet_checksum(Bytes(64, 0)), 0xFFFF);
  EXPECT_EQ(internet_checksum(Bytes(64, 0xFF)), 0x0000);
}

TEST(InternetChecksum, MatchesTheReferenceAtEveryLengthAndAlignment) {
  const Bytes data = pseudo_random_bytes(1600, 7);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= 300; ++n) {
      const Bytes piece(data.begin() + offset, data.begin() + offset + n);
      ASSERT_EQ(internet_checksum(ByteView(data.data() + offset, n)), reference_checksum(piece))
          << "offset " << offset << " length " << n;
    }
  }
  EXPECT_EQ(internet_checksum(data), reference_checksum(data));
}

TEST(InternetChecksum, PiecesOfAnyLengthSumLikeTheWhole) {
  const Bytes frame = from_hex(testing::kVxlanPingRequestFrame);
  const ByteView all(frame);
  const uint16_t whole = internet_checksum(all);
  for (size_t i = 0; i <= frame.size(); ++i) {
    for (size_t j = i; j <= frame.size(); j += 3) {
      const uint16_t pieces = InternetChecksum()
                                  .add(all.subview(0, i))
                                  .add(all.subview(i, j - i))
                                  .add(all.subview(j))
                                  .finish();
      ASSERT_EQ(pieces, whole) << "split at " << i << " and " << j;
    }
  }
}

TEST(InternetChecksum, Add16AndAdd32AreBigEndianBytes) {
  // After an odd piece too: the word straddles two 16-bit words.
  const Bytes bytes = from_hex("ab 1234 c0a84d01");
  const uint16_t expected = internet_checksum(bytes);
  const uint16_t got = InternetChecksum()
                           .add(ByteView(bytes).subview(0, 1))
                           .add16(0x1234)
                           .add32(0xC0A84D01)
                           .finish();
  EXPECT_EQ(got, expected);
}

TEST(InternetChecksum, PseudoHeaderIsSrcDstZeroProtocolLength) {
  const Bytes pseudo = from_hex("c0a84d01 c0a84d02 00 11 0052");
  InternetChecksum sum;
  add_ipv4_pseudo_header(sum, Ipv4::from_octets(192, 168, 77, 1),
                         Ipv4::from_octets(192, 168, 77, 2), 17, 0x52);
  EXPECT_EQ(sum.finish(), internet_checksum(pseudo));
}

}  // namespace
}  // namespace loom::wire
