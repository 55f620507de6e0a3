#include "model/wire/ethernet.h"

#include <gtest/gtest.h>

#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

// A tagged frame: VLAN 123, priority 5, carrying 4 bytes of IPv4 payload.
constexpr std::string_view kTaggedFrame = "0200 0000 0002 0200 0000 0001 8100 a07b 0800 4500 0014";

TEST(EthernetFrame, DecodesACapturedArpRequest) {
  const Bytes bytes = from_hex(testing::kArpRequestFrame);
  auto frame = EthernetFrame::decode(bytes);
  ASSERT_TRUE(frame) << error_of(frame);
  EXPECT_TRUE(frame->dst.is_broadcast());
  EXPECT_EQ(frame->src.to_string(), "02:00:00:00:00:01");
  EXPECT_FALSE(frame->vlan);
  EXPECT_EQ(frame->ethertype, kEtherTypeArp);
  EXPECT_EQ(frame->header_size(), 14u);
  EXPECT_EQ(frame->payload.data(), bytes.data() + 14);
  EXPECT_EQ(frame->payload.size(), 28u);
}

TEST(EthernetFrame, DecodesAnEightTwoOneQTag) {
  const Bytes bytes = from_hex(kTaggedFrame);
  auto frame = EthernetFrame::decode(bytes);
  ASSERT_TRUE(frame) << error_of(frame);
  ASSERT_TRUE(frame->vlan);
  EXPECT_EQ(frame->vlan->pcp, 5);
  EXPECT_FALSE(frame->vlan->dei);
  EXPECT_EQ(frame->vlan->vid, 123);
  EXPECT_EQ(frame->ethertype, kEtherTypeIpv4);
  EXPECT_EQ(frame->header_size(), 18u);
  EXPECT_EQ(frame->payload.size(), 4u);
}

TEST(EthernetFrame, DecodesEveryBitOfTheTag) {
  Bytes bytes = from_hex(kTaggedFrame);
  bytes[14] = 0x3F;  // pcp 1, DEI set, vid 0xfff
  bytes[15] = 0xFF;
  auto frame = EthernetFrame::decode(bytes);
  ASSERT_TRUE(frame) << error_of(frame);
  EXPECT_EQ(frame->vlan, (VlanTag{1, true, 0xFFF}));
}

TEST(EthernetFrame, RefusesEveryTruncation) {
  const Bytes arp = from_hex(testing::kArpRequestFrame);
  for (size_t n = 0; n < 14; ++n) {
    EXPECT_EQ(
        error_of(EthernetFrame::decode(ByteView(arp.data(), n))),
        "ethernet: frame of " + std::to_string(n) + " bytes is shorter than the 14-byte header");
  }
  const Bytes tagged = from_hex(kTaggedFrame);
  for (size_t n = 14; n < 18; ++n) {
    EXPECT_EQ(error_of(EthernetFrame::decode(ByteView(tagged.data(), n))),
              "ethernet: frame of " + std::to_string(n) +
                  " bytes is shorter than the 18-byte header with its 802.1Q tag");
  }
  EXPECT_TRUE(EthernetFrame::decode(ByteView(tagged.data(), 18)));
}

TEST(EthernetFrame, RefusesEightOhTwoThreeLengthFrames) {
  Bytes bytes = from_hex(testing::kArpRequestFrame);
  bytes[12] = 0x00;
  bytes[13] = 0x1C;  // an 802.3 length, 28
  EXPECT_EQ(error_of(EthernetFrame::decode(bytes)),
            "ethernet: type field 0x001c is an 802.3 length, not an EtherType (only Ethernet II "
            "is handled)");
  bytes[12] = 0x05;
  bytes[13] = 0xFF;
  EXPECT_FALSE(EthernetFrame::decode(bytes));
  bytes[12] = 0x06;
  bytes[13] = 0x00;
  EXPECT_TRUE(EthernetFrame::decode(bytes));
}

TEST(EthernetFrame, ASecondTagIsLeftInThePayload) {
  const Bytes bytes = from_hex("0200 0000 0002 0200 0000 0001 8100 0064 8100 00c8 0800");
  auto frame = EthernetFrame::decode(bytes);
  ASSERT_TRUE(frame) << error_of(frame);
  EXPECT_EQ(frame->vlan->vid, 100);
  EXPECT_EQ(frame->ethertype, kEtherTypeVlan);
  EXPECT_EQ(frame->payload.size(), 4u);
}

TEST(EthernetFrame, RoundTripsTaggedAndUntaggedFrames) {
  for (auto hex : {testing::kArpRequestFrame, testing::kVxlanPingRequestFrame, kTaggedFrame}) {
    const Bytes bytes = from_hex(hex);
    auto frame = EthernetFrame::decode(bytes);
    ASSERT_TRUE(frame) << error_of(frame);
    Bytes out(bytes.size());
    auto written = frame->encode(out);
    ASSERT_TRUE(written) << error_of(written);
    EXPECT_EQ(*written, bytes.size());
    EXPECT_EQ(out, bytes);
  }
}

TEST(EthernetFrame, EncodesAroundAPayloadAlreadyInPlace) {
  Bytes out(14 + 4);
  out[14] = 0xDE;
  out[15] = 0xAD;
  out[16] = 0xBE;
  out[17] = 0xEF;
  EthernetFrame frame;
  frame.dst = MacAddress::broadcast();
  frame.src = *MacAddress::parse("02:00:00:00:00:01");
  frame.ethertype = 0x88B5;  // local experimental
  frame.payload = ByteView(out.data() + 14, 4);
  ASSERT_TRUE(frame.encode(out));
  EXPECT_EQ(out, from_hex("ffff ffff ffff 0200 0000 0001 88b5 dead beef"));
}

TEST(EthernetFrame, EncodeRefusesBadFieldsAndSmallBuffers) {
  const Bytes payload(10, 0xAB);
  EthernetFrame frame;
  frame.ethertype = kEtherTypeIpv4;
  frame.payload = payload;
  frame.vlan = VlanTag{7, true, 4095};
  Bytes out(18 + 10);
  EXPECT_TRUE(frame.encode(out));
  EXPECT_EQ(error_of(frame.encode(std::span(out).first(27))),
            "ethernet: needs 28 bytes, buffer holds 27");

  frame.vlan->pcp = 8;
  EXPECT_EQ(error_of(frame.encode(out)), "ethernet: VLAN priority 8 exceeds 7");
  frame.vlan = VlanTag{0, false, 4096};
  EXPECT_EQ(error_of(frame.encode(out)), "ethernet: VLAN id 4096 exceeds 4095");
  frame.vlan.reset();
  frame.ethertype = 0x0100;
  EXPECT_FALSE(frame.encode(out));
  frame.ethertype = kEtherTypeVlan;
  EXPECT_EQ(error_of(frame.encode(out)), "ethernet: EtherType 0x8100 needs a VLAN tag (set vlan)");
}

}  // namespace
}  // namespace loom::wire
