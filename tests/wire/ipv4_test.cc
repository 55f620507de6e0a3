#include "model/wire/ipv4.h"

#include <gtest/gtest.h>

#include "model/wire/checksum.h"
#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

constexpr size_t kOuterIp = 14;  // in the captured VXLAN frames
constexpr size_t kInnerIp = 14 + 20 + 8 + 8 + 14;

Bytes slice(std::string_view frame_hex, size_t from, size_t n = SIZE_MAX) {
  const Bytes frame = from_hex(frame_hex);
  return ByteView(frame).subview(from, n).to_bytes();
}

// Rewrites the header checksum after a test changed a field.
void fix_checksum(Bytes& packet) {
  const size_t header = size_t{packet[0] & 0x0Fu} * 4;
  packet[10] = packet[11] = 0;
  const uint16_t sum = internet_checksum(ByteView(packet.data(), std::min(header, packet.size())));
  packet[10] = static_cast<uint8_t>(sum >> 8);
  packet[11] = static_cast<uint8_t>(sum);
}

TEST(Ipv4Packet, DecodesACapturedOuterHeader) {
  const Bytes bytes = slice(testing::kVxlanPingRequestFrame, kOuterIp);
  auto ip = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(ip) << error_of(ip);
  EXPECT_EQ(ip->dscp, 0);
  EXPECT_EQ(ip->ecn, 0);
  EXPECT_EQ(ip->total_length(), 102u);
  EXPECT_EQ(ip->id, 0x36C7);
  EXPECT_FALSE(ip->dont_fragment);
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->ttl, 64);
  EXPECT_EQ(ip->protocol, kIpProtocolUdp);
  EXPECT_EQ(ip->checksum, 0x286C);
  EXPECT_EQ(ip->src, Ipv4::from_octets(192, 168, 77, 1));
  EXPECT_EQ(ip->dst, Ipv4::from_octets(192, 168, 77, 2));
  EXPECT_TRUE(ip->options.empty());
  EXPECT_EQ(ip->payload.data(), bytes.data() + 20);
  EXPECT_EQ(ip->payload.size(), 82u);
}

TEST(Ipv4Packet, DecodesACapturedInnerPingWithDontFragment) {
  const Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  auto ip = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(ip) << error_of(ip);
  EXPECT_TRUE(ip->dont_fragment);
  EXPECT_FALSE(ip->is_fragment());
  EXPECT_EQ(ip->protocol, kIpProtocolIcmp);
  EXPECT_EQ(ip->src, Ipv4::from_octets(10, 77, 0, 1));
  EXPECT_EQ(ip->dst, Ipv4::from_octets(10, 77, 0, 2));
  EXPECT_EQ(ip->payload.size(), 32u);
}

TEST(Ipv4Packet, DecodesDscpAndEcn) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[1] = 0xB9;  // DSCP 46 (EF), ECN 1 (ECT(1))
  fix_checksum(bytes);
  auto ip = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(ip) << error_of(ip);
  EXPECT_EQ(ip->dscp, 46);
  EXPECT_EQ(ip->ecn, 1);
}

TEST(Ipv4Packet, IgnoresLinkPaddingAfterTheTotalLength) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes.resize(bytes.size() + 12, 0);
  auto ip = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(ip) << error_of(ip);
  EXPECT_EQ(ip->payload.size(), 32u);
}

TEST(Ipv4Packet, RefusesEveryTruncation) {
  const Bytes bytes = slice(testing::kVxlanPingRequestFrame, kOuterIp);
  for (size_t n = 0; n < 20; ++n) {
    EXPECT_EQ(error_of(Ipv4Packet::decode(ByteView(bytes.data(), n))),
              "ipv4: packet of " + std::to_string(n) + " bytes is shorter than the 20-byte header");
  }
  for (size_t n = 20; n < 102; ++n) {
    EXPECT_EQ(error_of(Ipv4Packet::decode(ByteView(bytes.data(), n))),
              "ipv4: total length 102 exceeds buffer of " + std::to_string(n) + " bytes");
  }
  EXPECT_TRUE(Ipv4Packet::decode(ByteView(bytes.data(), 102)));
}

TEST(Ipv4Packet, RefusesTotalLengthBeyondTheBuffer) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes.resize(60, 0);
  bytes[2] = 0x05;  // 1500
  bytes[3] = 0xDC;
  fix_checksum(bytes);
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
            "ipv4: total length 1500 exceeds buffer of 60 bytes");
}

TEST(Ipv4Packet, RefusesTotalLengthShorterThanTheHeader) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[2] = 0x00;
  bytes[3] = 19;
  fix_checksum(bytes);
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
            "ipv4: total length 19 is less than the header length 20");
}

TEST(Ipv4Packet, RefusesOtherVersions) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[0] = 0x65;
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)), "ipv4: version 6, expected 4");
  bytes[0] = 0x05;
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)), "ipv4: version 0, expected 4");
}

TEST(Ipv4Packet, RefusesHeaderLengthsBelowTwentyOrBeyondTheBuffer) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  for (uint8_t ihl = 0; ihl < 5; ++ihl) {
    bytes[0] = static_cast<uint8_t>(0x40 | ihl);
    EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
              "ipv4: header length " + std::to_string(ihl * 4) + " bytes (IHL " +
                  std::to_string(ihl) + ") is below the minimum of 20");
  }
  bytes[0] = 0x4F;  // 60 bytes of header in a 52-byte buffer
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
            "ipv4: header length 60 bytes exceeds buffer of 52 bytes");
  bytes[0] = 0x4D;  // 52 bytes of header, but total length is 52: no payload, and a bad checksum
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)).substr(0, 22), "ipv4: header checksum ");
}

TEST(Ipv4Packet, RefusesTheReservedFlag) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[6] |= 0x80;
  fix_checksum(bytes);
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)), "ipv4: reserved flag bit is set");
}

TEST(Ipv4Packet, RefusesABadHeaderChecksumAndSaysWhatItShouldBe) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[8] = 63;  // TTL changed in flight without the checksum
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
            "ipv4: header checksum 0x8cb2 is wrong (expected 0x8db2)");
  bytes[8] = 64;
  bytes[11] ^= 0x01;
  EXPECT_EQ(error_of(Ipv4Packet::decode(bytes)),
            "ipv4: header checksum 0x8cb3 is wrong (expected 0x8cb2)");
}

TEST(Ipv4Packet, PayloadBytesAreNotCoveredByTheHeaderChecksum) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes.back() ^= 0xFF;
  EXPECT_TRUE(Ipv4Packet::decode(bytes));
}

TEST(Ipv4Packet, FlagsFragments) {
  Bytes bytes = slice(testing::kVxlanPingRequestFrame, kInnerIp);
  bytes[6] = 0x20;  // MF, offset 0: the first fragment
  bytes[7] = 0x00;
  fix_checksum(bytes);
  auto first = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(first) << error_of(first);
  EXPECT_TRUE(first->more_fragments);
  EXPECT_FALSE(first->dont_fragment);
  EXPECT_TRUE(first->is_fragment());

  bytes[6] = 0x00;  // last fragment at 185 * 8 = 1480 bytes
  bytes[7] = 0xB9;
  fix_checksum(bytes);
  auto last = Ipv4Packet::decode(bytes);
  ASSERT_TRUE(last) << error_of(last);
  EXPECT_FALSE(last->more_fragments);
  EXPECT_EQ(last->fragment_offset, 185);
  EXPECT_EQ(last->fragment_offset_bytes(), 1480u);
  EXPECT_TRUE(last->is_fragment());
}

TEST(Ipv4Packet, CarriesOptionsUnparsed) {
  const Bytes payload = from_hex("0102 0304");
  const Bytes router_alert = from_hex("9404 0000");
  Ipv4Packet ip;
  ip.protocol = 2;  // IGMP carries Router Alert
  ip.ttl = 1;
  ip.src = Ipv4::from_octets(10, 0, 0, 1);
  ip.dst = Ipv4::from_octets(224, 0, 0, 22);
  ip.options = router_alert;
  ip.payload = payload;
  Bytes out(28);
  auto written = ip.encode(out);
  ASSERT_TRUE(written) << error_of(written);
  EXPECT_EQ(*written, 28u);
  EXPECT_EQ(out[0], 0x46);

  auto decoded = Ipv4Packet::decode(out);
  ASSERT_TRUE(decoded) << error_of(decoded);
  EXPECT_EQ(decoded->options.to_bytes(), router_alert);
  EXPECT_EQ(decoded->payload.to_bytes(), payload);
  EXPECT_EQ(decoded->header_size(), 24u);
}

TEST(Ipv4Packet, RoundTripsCapturedPackets) {
  for (size_t at : {kOuterIp, kInnerIp}) {
    for (auto hex : {testing::kVxlanPingRequestFrame, testing::kVxlanPingReplyFrame,
                     testing::kVxlanPingRequestWithUdpChecksumFrame}) {
      const Bytes bytes = slice(hex, at);
      auto ip = Ipv4Packet::decode(bytes);
      ASSERT_TRUE(ip) << error_of(ip);
      Bytes out(bytes.size());
      auto written = ip->encode(out);
      ASSERT_TRUE(written) << error_of(written);
      EXPECT_EQ(out, bytes);
    }
  }
}

TEST(Ipv4Packet, EncodeComputesTheWellKnownChecksum) {
  // The header of InternetChecksum.Ipv4HeaderExample, built from fields.
  const Bytes payload(0x73 - 20, 0);
  Ipv4Packet ip;
  ip.dont_fragment = true;
  ip.ttl = 64;
  ip.protocol = kIpProtocolUdp;
  ip.src = Ipv4::from_octets(192, 168, 0, 1);
  ip.dst = Ipv4::from_octets(192, 168, 0, 199);
  ip.payload = payload;
  Bytes out(0x73);
  ASSERT_TRUE(ip.encode(out));
  EXPECT_EQ(ByteView(out).subview(0, 20).to_bytes(),
            from_hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7"));
}

TEST(Ipv4Packet, EncodeRefusesOutOfRangeFields) {
  const Bytes payload(8, 0);
  Ipv4Packet ip;
  ip.payload = payload;
  Bytes out(64);
  ASSERT_TRUE(ip.encode(out));
  EXPECT_EQ(error_of(ip.encode(std::span(out).first(27))), "ipv4: needs 28 bytes, buffer holds 27");

  Ipv4Packet bad = ip;
  bad.dscp = 64;
  EXPECT_EQ(error_of(bad.encode(out)), "ipv4: DSCP 64 exceeds 63");
  bad = ip;
  bad.ecn = 4;
  EXPECT_EQ(error_of(bad.encode(out)), "ipv4: ECN 4 exceeds 3");
  bad = ip;
  bad.fragment_offset = 8192;
  EXPECT_EQ(error_of(bad.encode(out)), "ipv4: fragment offset 8192 exceeds 8191");
  const Bytes options(44, 1);
  bad = ip;
  bad.options = ByteView(options).subview(0, 3);
  EXPECT_EQ(error_of(bad.encode(out)),
            "ipv4: options of 3 bytes: must be a multiple of 4, at most 40");
  bad.options = options;
  EXPECT_FALSE(bad.encode(out));
  const Bytes huge(65535 - 19, 0);
  bad = ip;
  bad.payload = huge;
  Bytes big(70000);
  EXPECT_EQ(error_of(bad.encode(big)), "ipv4: total length 65536 exceeds 65535");
}

}  // namespace
}  // namespace loom::wire
