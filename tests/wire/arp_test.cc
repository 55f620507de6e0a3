#include "model/wire/arp.h"

#include <gtest/gtest.h>

#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

// The ARP packet of a captured frame (after its 14-byte Ethernet header).
Bytes arp_of(std::string_view frame_hex) {
  const Bytes frame = from_hex(frame_hex);
  return Bytes(frame.begin() + 14, frame.end());
}

TEST(ArpPacket, DecodesACapturedRequest) {
  auto arp = ArpPacket::decode(arp_of(testing::kArpRequestFrame));
  ASSERT_TRUE(arp) << error_of(arp);
  EXPECT_EQ(arp->op, ArpOp::kRequest);
  EXPECT_EQ(arp->sender_mac.to_string(), "02:00:00:00:00:01");
  EXPECT_EQ(arp->sender_ip, Ipv4::from_octets(192, 168, 77, 1));
  EXPECT_TRUE(arp->target_mac.is_zero());
  EXPECT_EQ(arp->target_ip, Ipv4::from_octets(192, 168, 77, 2));
}

TEST(ArpPacket, DecodesACapturedReply) {
  auto arp = ArpPacket::decode(arp_of(testing::kArpReplyFrame));
  ASSERT_TRUE(arp) << error_of(arp);
  EXPECT_EQ(arp->op, ArpOp::kReply);
  EXPECT_EQ(arp->sender_mac.to_string(), "02:00:00:00:00:02");
  EXPECT_EQ(arp->sender_ip, Ipv4::from_octets(192, 168, 77, 2));
  EXPECT_EQ(arp->target_mac.to_string(), "02:00:00:00:00:01");
  EXPECT_EQ(arp->target_ip, Ipv4::from_octets(192, 168, 77, 1));
}

TEST(ArpPacket, IgnoresEthernetPadding) {
  Bytes padded = arp_of(testing::kArpRequestFrame);
  padded.resize(46, 0);  // padded to the 60-byte minimum frame
  auto arp = ArpPacket::decode(padded);
  ASSERT_TRUE(arp) << error_of(arp);
  EXPECT_EQ(arp->target_ip, Ipv4::from_octets(192, 168, 77, 2));
}

TEST(ArpPacket, RefusesEveryTruncation) {
  const Bytes bytes = arp_of(testing::kArpReplyFrame);
  for (size_t n = 0; n < 28; ++n) {
    EXPECT_EQ(error_of(ArpPacket::decode(ByteView(bytes.data(), n))),
              "arp: packet of " + std::to_string(n) + " bytes is shorter than the 28-byte packet");
  }
}

TEST(ArpPacket, RefusesAnythingButEthernetIpv4RequestsAndReplies) {
  const Bytes good = arp_of(testing::kArpRequestFrame);
  struct Case {
    size_t at;
    std::vector<uint8_t> bytes;
    std::string error;
  };
  const Case cases[] = {
      {0, {0x00, 0x06}, "arp: hardware type 6, expected 1 (Ethernet)"},
      {2, {0x86, 0xDD}, "arp: protocol type 0x86dd, expected 0x0800 (IPv4)"},
      {4, {8}, "arp: hardware address length 8, expected 6"},
      {5, {16}, "arp: protocol address length 16, expected 4"},
      {6, {0x00, 0x03}, "arp: operation 3 is neither request (1) nor reply (2)"},
      {6, {0x00, 0x00}, "arp: operation 0 is neither request (1) nor reply (2)"},
  };
  for (const auto& c : cases) {
    Bytes bad = good;
    std::copy(c.bytes.begin(), c.bytes.end(), bad.begin() + static_cast<long>(c.at));
    EXPECT_EQ(error_of(ArpPacket::decode(bad)), c.error);
  }
}

TEST(ArpPacket, RoundTripsCapturedPackets) {
  for (auto hex : {testing::kArpRequestFrame, testing::kArpReplyFrame}) {
    const Bytes bytes = arp_of(hex);
    auto arp = ArpPacket::decode(bytes);
    ASSERT_TRUE(arp) << error_of(arp);
    Bytes out(28);
    auto written = arp->encode(out);
    ASSERT_TRUE(written) << error_of(written);
    EXPECT_EQ(*written, 28u);
    EXPECT_EQ(out, bytes);
  }
}

TEST(ArpPacket, EncodeRefusesBadOperationAndSmallBuffers) {
  ArpPacket arp;
  Bytes out(28);
  EXPECT_EQ(error_of(arp.encode(std::span(out).first(27))), "arp: needs 28 bytes, buffer holds 27");
  arp.op = static_cast<ArpOp>(3);
  EXPECT_EQ(error_of(arp.encode(out)), "arp: operation 3 is neither request (1) nor reply (2)");
}

}  // namespace
}  // namespace loom::wire
