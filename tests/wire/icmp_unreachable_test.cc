#include "model/wire/icmp_unreachable.h"

#include <gtest/gtest.h>

#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

// "Fragmentation needed, next-hop MTU 1438" quoting a 1500-byte UDP packet
// 10.32.0.1 -> 10.32.0.2 with DF; checksum computed independently (Python).
constexpr std::string_view kFragNeeded =
    "030491230000059e"                          // type 3, code 4, checksum, unused, MTU 1438
    "450005dc1c464000401104890a2000010a200002"  // the original IP header
    "3039303905c80000";                         // and its first 8 bytes

TEST(IcmpDestUnreachable, DecodesFragmentationNeeded) {
  const Bytes bytes = from_hex(kFragNeeded);
  auto icmp = IcmpDestUnreachable::decode(bytes);
  ASSERT_TRUE(icmp) << error_of(icmp);
  EXPECT_EQ(icmp->code, kIcmpCodeFragNeeded);
  EXPECT_EQ(icmp->next_hop_mtu, 1438);
  EXPECT_EQ(icmp->checksum, 0x9123);
  EXPECT_EQ(icmp->original.size(), 28u);
}

TEST(IcmpDestUnreachable, EncodesTheSameBytes) {
  const Bytes bytes = from_hex(kFragNeeded);
  IcmpDestUnreachable icmp;
  icmp.code = kIcmpCodeFragNeeded;
  icmp.next_hop_mtu = 1438;
  const Bytes original(bytes.begin() + 8, bytes.end());
  icmp.original = original;
  Bytes out(icmp.size());
  auto n = icmp.encode(out);
  ASSERT_TRUE(n) << error_of(n);
  EXPECT_EQ(out, bytes);
  Bytes small(7);
  EXPECT_FALSE(icmp.encode(small).ok());
}

TEST(IcmpDestUnreachable, RefusesOtherTypesBadChecksumsAndShortMessages) {
  Bytes bytes = from_hex(kFragNeeded);
  bytes[9] ^= 1;
  EXPECT_NE(error_of(IcmpDestUnreachable::decode(bytes)).find("checksum"), std::string::npos);
  EXPECT_NE(error_of(IcmpDestUnreachable::decode(from_hex("0800f7ff00000000"))).find("type 8"),
            std::string::npos);
  EXPECT_FALSE(IcmpDestUnreachable::decode(from_hex("0304")).ok());
}

}  // namespace
}  // namespace loom::wire
