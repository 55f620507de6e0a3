#include "model/wire/mac.h"

#include <gtest/gtest.h>

namespace loom::wire {
namespace {

TEST(MacAddress, ParsesAndPrintsLowerCase) {
  auto mac = MacAddress::parse("0A:00:00:00:0b:02");
  ASSERT_TRUE(mac);
  EXPECT_EQ(mac->bytes, (std::array<uint8_t, 6>{0x0A, 0x00, 0x00, 0x00, 0x0B, 0x02}));
  EXPECT_EQ(mac->to_string(), "0a:00:00:00:0b:02");
  EXPECT_EQ(MacAddress::parse(mac->to_string()), mac);
}

TEST(MacAddress, RefusesAnythingButSixColonSeparatedHexPairs) {
  for (const char* bad :
       {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa-bb-cc-dd-ee-ff", "aabb.ccdd.eeff",
        "aa:bb:cc:dd:ee:fg", "a:bb:cc:dd:ee:fff", " aa:bb:cc:dd:ee:f", "aa:bb:cc:dd:ee:ff "}) {
    EXPECT_FALSE(MacAddress::parse(bad)) << bad;
  }
}

TEST(MacAddress, Predicates) {
  EXPECT_TRUE(MacAddress::broadcast().is_broadcast());
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  const auto ipv6_multicast = *MacAddress::parse("33:33:ff:00:00:02");
  EXPECT_TRUE(ipv6_multicast.is_multicast());
  EXPECT_FALSE(ipv6_multicast.is_broadcast());
  const auto ipv4_multicast = *MacAddress::parse("01:00:5e:00:00:16");
  EXPECT_TRUE(ipv4_multicast.is_multicast());
  const auto local = *MacAddress::parse("02:00:00:00:00:01");
  EXPECT_TRUE(local.is_unicast());
  EXPECT_TRUE(local.is_locally_administered());
  const auto vendor = *MacAddress::parse("00:1b:21:3a:4f:10");
  EXPECT_TRUE(vendor.is_unicast());
  EXPECT_FALSE(vendor.is_locally_administered());
  EXPECT_TRUE(MacAddress{}.is_zero());
  EXPECT_FALSE(vendor.is_zero());
}

}  // namespace
}  // namespace loom::wire
