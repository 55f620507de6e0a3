#include "model/address.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(Ipv4, ParsesAndPrintsDottedQuads) {
  auto a = Ipv4::parse("10.32.0.1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->value, 0x0A200001u);
  EXPECT_EQ(a->to_string(), "10.32.0.1");
  EXPECT_EQ(Ipv4::parse("255.255.255.255")->value, 0xFFFFFFFFu);
  EXPECT_EQ(Ipv4::parse("0.0.0.0")->value, 0u);
  EXPECT_EQ(Ipv4::from_octets(192, 168, 1, 2).to_string(), "192.168.1.2");
}

TEST(Ipv4, RejectsMalformedText) {
  for (const char* bad : {"", "10", "10.0.0", "10.0.0.1.", "10.0.0.256", "10.0.0.-1", "010.0.0.1",
                          "10..0.1", "a.b.c.d", "10.0.0.1 ", " 10.0.0.1", "1.2.3.4.5"}) {
    EXPECT_FALSE(Ipv4::parse(bad)) << bad;
  }
}

TEST(Endpoint, ParsesAddressAndPort) {
  auto e = Endpoint::parse("10.0.0.1:6783");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->addr, Ipv4::from_octets(10, 0, 0, 1));
  EXPECT_EQ(e->port, 6783);
  EXPECT_EQ(e->to_string(), "10.0.0.1:6783");
  EXPECT_FALSE(Endpoint::parse("10.0.0.1"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:65536"));
  EXPECT_FALSE(Endpoint::parse("10.0.0.1:"));
  EXPECT_FALSE(Endpoint::parse(":80"));
}

TEST(Endpoint, OrdersByAddressThenPort) {
  Endpoint a{Ipv4(1), 9}, b{Ipv4(2), 1}, c{Ipv4(2), 2};
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_FALSE(c < b);
  EXPECT_NE(b, c);
}

}  // namespace
}  // namespace loom
