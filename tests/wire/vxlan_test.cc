#include "model/wire/vxlan.h"

#include <gtest/gtest.h>

#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

TEST(VxlanPacket, DecodesTheHeaderOfRfc7348) {
  // I flag, VNI 42, then the inner frame's first bytes.
  const Bytes bytes = from_hex("0800 0000 0000 2a00 ffff");
  auto vxlan = VxlanPacket::decode(bytes);
  ASSERT_TRUE(vxlan) << error_of(vxlan);
  EXPECT_EQ(vxlan->vni, 42u);
  EXPECT_EQ(vxlan->flags, VxlanPacket::kFlagI);
  EXPECT_FALSE(vxlan->has_reserved_bits());
  EXPECT_EQ(vxlan->payload.data(), bytes.data() + 8);
  EXPECT_EQ(vxlan->payload.size(), 2u);
}

TEST(VxlanPacket, DecodesAllTwentyFourBitsOfTheVni) {
  auto vxlan = VxlanPacket::decode(from_hex("0800 0000 abcd ef00"));
  ASSERT_TRUE(vxlan) << error_of(vxlan);
  EXPECT_EQ(vxlan->vni, 0xABCDEFu);
}

TEST(VxlanPacket, RefusesAMissingIFlag) {
  EXPECT_EQ(error_of(VxlanPacket::decode(from_hex("0000 0000 0000 2a00"))),
            "vxlan: I flag not set (flags 0x00)");
  EXPECT_EQ(error_of(VxlanPacket::decode(from_hex("f700 0000 0000 2a00"))),
            "vxlan: I flag not set (flags 0xf7)");
}

TEST(VxlanPacket, RefusesEveryTruncation) {
  const Bytes bytes = from_hex("0800 0000 0000 2a00");
  for (size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(error_of(VxlanPacket::decode(ByteView(bytes.data(), n))),
              "vxlan: packet of " + std::to_string(n) + " bytes is shorter than the 8-byte header");
  }
}

TEST(VxlanPacket, AcceptsAndReportsReservedBitsAsTheRfcSays) {
  // Group Policy (VXLAN-GBP) sets flag 0x80 and a group id in the reserved bits.
  const Bytes bytes = from_hex("8800 0064 0000 2a01");
  auto vxlan = VxlanPacket::decode(bytes);
  ASSERT_TRUE(vxlan) << error_of(vxlan);
  EXPECT_TRUE(vxlan->has_reserved_bits());
  EXPECT_EQ(vxlan->flags, 0x88);
  EXPECT_EQ(vxlan->reserved1, 0x64u);
  EXPECT_EQ(vxlan->reserved2, 1);
  Bytes out(8);
  ASSERT_TRUE(vxlan->encode(out));
  EXPECT_EQ(out, bytes) << "reserved bits survive a round trip";
}

TEST(VxlanPacket, EncodesHeaderAndPayload) {
  const Bytes inner = from_hex("ffff ffff ffff");
  VxlanPacket vxlan;
  vxlan.vni = 0x123456;
  vxlan.payload = inner;
  Bytes out(14);
  auto written = vxlan.encode(out);
  ASSERT_TRUE(written) << error_of(written);
  EXPECT_EQ(*written, 14u);
  EXPECT_EQ(out, from_hex("0800 0000 1234 5600 ffff ffff ffff"));
}

TEST(VxlanPacket, EncodeRefusesOutOfRangeFields) {
  VxlanPacket vxlan;
  Bytes out(8);
  EXPECT_EQ(error_of(vxlan.encode(std::span(out).first(7))),
            "vxlan: needs 8 bytes, buffer holds 7");
  vxlan.vni = 0x1000000;
  EXPECT_EQ(error_of(vxlan.encode(out)), "vxlan: VNI 16777216 exceeds 24 bits");
  vxlan.vni = 1;
  vxlan.flags = 0;
  EXPECT_EQ(error_of(vxlan.encode(out)), "vxlan: I flag not set (flags 0x00)");
  vxlan.flags = VxlanPacket::kFlagI;
  vxlan.reserved1 = 0x1000000;
  EXPECT_EQ(error_of(vxlan.encode(out)), "vxlan: reserved field 0x01000000 exceeds 24 bits");
}

}  // namespace
}  // namespace loom::wire
