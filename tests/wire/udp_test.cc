#include "model/wire/udp.h"

#include <gtest/gtest.h>

#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

constexpr size_t kOuterUdp = 14 + 20;  // in the captured VXLAN frames
const Ipv4 kA = Ipv4::from_octets(192, 168, 77, 1);
const Ipv4 kB = Ipv4::from_octets(192, 168, 77, 2);

Bytes udp_of(std::string_view frame_hex) {
  const Bytes frame = from_hex(frame_hex);
  return Bytes(frame.begin() + kOuterUdp, frame.end());
}

TEST(UdpDatagram, DecodesACapturedDatagramWithoutChecksum) {
  const Bytes bytes = udp_of(testing::kVxlanPingRequestFrame);
  auto udp = UdpDatagram::decode(bytes, kA, kB);
  ASSERT_TRUE(udp) << error_of(udp);
  EXPECT_EQ(udp->src_port, 0xC013);
  EXPECT_EQ(udp->dst_port, 4789);
  EXPECT_EQ(udp->checksum, 0);
  EXPECT_EQ(udp->size(), 82u);
  EXPECT_EQ(udp->payload.data(), bytes.data() + 8);
  EXPECT_EQ(udp->payload.size(), 74u);
}

TEST(UdpDatagram, VerifiesACapturedChecksumOverThePseudoHeader) {
  const Bytes bytes = udp_of(testing::kVxlanPingRequestWithUdpChecksumFrame);
  auto udp = UdpDatagram::decode(bytes, kA, kB);
  ASSERT_TRUE(udp) << error_of(udp);
  EXPECT_EQ(udp->checksum, 0xAE29);
  // The same bytes from another source address fail: the pseudo header counts.
  EXPECT_EQ(error_of(UdpDatagram::decode(bytes, Ipv4::from_octets(192, 168, 77, 3), kB)),
            "udp: checksum 0xae29 is wrong (expected 0xae27)");
}

TEST(UdpDatagram, RefusesACorruptedPayload) {
  Bytes bytes = udp_of(testing::kVxlanPingRequestWithUdpChecksumFrame);
  bytes[20] ^= 0x01;
  EXPECT_EQ(error_of(UdpDatagram::decode(bytes, kA, kB)).substr(0, 30),
            "udp: checksum 0xae29 is wrong ");
}

TEST(UdpDatagram, AZeroChecksumMeansNoneSoCorruptionPasses) {
  Bytes bytes = udp_of(testing::kVxlanPingRequestFrame);
  bytes[20] ^= 0x01;
  EXPECT_TRUE(UdpDatagram::decode(bytes, kA, kB));
}

TEST(UdpDatagram, RefusesEveryTruncation) {
  const Bytes bytes = udp_of(testing::kVxlanPingRequestFrame);
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(error_of(UdpDatagram::decode(ByteView(bytes.data(), n), kA, kB)),
              "udp: datagram of " + std::to_string(n) + " bytes is shorter than the 8-byte header");
  }
  for (size_t n = 8; n < 82; ++n) {
    EXPECT_EQ(error_of(UdpDatagram::decode(ByteView(bytes.data(), n), kA, kB)),
              "udp: length 82 exceeds buffer of " + std::to_string(n) + " bytes");
  }
}

TEST(UdpDatagram, RefusesALengthBelowTheHeader) {
  Bytes bytes = udp_of(testing::kVxlanPingRequestFrame);
  bytes[4] = 0;
  bytes[5] = 7;
  EXPECT_EQ(error_of(UdpDatagram::decode(bytes, kA, kB)),
            "udp: length 7 is less than the 8-byte header");
}

TEST(UdpDatagram, TrimsBytesAfterTheLength) {
  Bytes bytes = udp_of(testing::kVxlanPingRequestFrame);
  bytes[4] = 0;
  bytes[5] = 8;  // an empty datagram followed by junk
  auto udp = UdpDatagram::decode(bytes, kA, kB);
  ASSERT_TRUE(udp) << error_of(udp);
  EXPECT_TRUE(udp->payload.empty());
}

TEST(UdpDatagram, EncodeReproducesCapturedDatagrams) {
  struct Case {
    std::string_view frame;
    UdpChecksum mode;
  };
  for (const auto& c :
       {Case{testing::kVxlanPingRequestFrame, UdpChecksum::kNone},
        Case{testing::kVxlanPingRequestWithUdpChecksumFrame, UdpChecksum::kCompute}}) {
    const Bytes bytes = udp_of(c.frame);
    auto udp = UdpDatagram::decode(bytes, kA, kB);
    ASSERT_TRUE(udp) << error_of(udp);
    Bytes out(bytes.size());
    auto written = udp->encode(out, kA, kB, c.mode);
    ASSERT_TRUE(written) << error_of(written);
    EXPECT_EQ(*written, 82u);
    EXPECT_EQ(out, bytes);
  }
}

TEST(UdpDatagram, AComputedZeroChecksumIsSentAsAllOnes) {
  Bytes payload = {0, 0};
  UdpDatagram udp;
  udp.src_port = 1234;
  udp.dst_port = 5678;
  udp.payload = payload;
  Bytes out(10);
  ASSERT_TRUE(udp.encode(out, kA, kB, UdpChecksum::kCompute));
  // A payload word equal to that checksum brings the sum to all ones, so the
  // checksum comes out 0: RFC 768 then sends 0xffff, since 0 means "none".
  payload = {out[6], out[7]};
  udp.payload = payload;
  ASSERT_TRUE(udp.encode(out, kA, kB, UdpChecksum::kCompute));
  EXPECT_EQ(out[6], 0xFF);
  EXPECT_EQ(out[7], 0xFF);
  auto decoded = UdpDatagram::decode(out, kA, kB);
  ASSERT_TRUE(decoded) << error_of(decoded);
  EXPECT_EQ(decoded->checksum, 0xFFFF);
}

TEST(UdpDatagram, EncodeRefusesSmallBuffersAndOversizedDatagrams) {
  const Bytes payload(10, 0x55);
  UdpDatagram udp;
  udp.payload = payload;
  Bytes out(18);
  EXPECT_EQ(error_of(udp.encode(std::span(out).first(17), kA, kB, UdpChecksum::kNone)),
            "udp: needs 18 bytes, buffer holds 17");
  const Bytes huge(65535 - 7, 0);
  udp.payload = huge;
  Bytes big(70000);
  EXPECT_EQ(error_of(udp.encode(big, kA, kB, UdpChecksum::kNone)),
            "udp: length 65536 exceeds 65535");
}

}  // namespace
}  // namespace loom::wire
