// ipBlock CIDRs: IPv4 and IPv6 as Go's net.ParseCIDR reads them.
#include "model/policy/ip_cidr.h"

#include <gtest/gtest.h>

namespace loom::policy {
namespace {

IpCidr cidr(const char* text) {
  auto r = IpCidr::parse(text);
  EXPECT_TRUE(r) << text;
  return r ? *r : IpCidr{};
}

TEST(IpCidr, Ipv4ContainsItsAddressesOnly) {
  const IpCidr c = cidr("10.1.2.3/16");
  EXPECT_EQ(c.to_string(), "10.1.0.0/16");
  EXPECT_TRUE(c.contains(*Ipv4::parse("10.1.255.255")));
  EXPECT_FALSE(c.contains(*Ipv4::parse("10.2.0.0")));
  EXPECT_TRUE(cidr("0.0.0.0/0").contains(*Ipv4::parse("203.0.113.9")));
  EXPECT_TRUE(cidr("10.0.0.7/32").contains(*Ipv4::parse("10.0.0.7")));
  EXPECT_FALSE(cidr("10.0.0.7/32").contains(*Ipv4::parse("10.0.0.6")));
}

TEST(IpCidr, BlocksNest) {
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.9.0.0/16")));
  EXPECT_TRUE(cidr("10.0.0.0/8").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.0.0.0/16").contains(cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(cidr("11.0.0.0/16")));
  EXPECT_FALSE(cidr("10.0.0.0/8").contains(cidr("::/0")));
  EXPECT_TRUE(cidr("2001:db8::/32").contains(cidr("2001:db8:1::/48")));
  EXPECT_FALSE(cidr("2001:db8::/32").contains(cidr("2001:db9::/48")));
}

TEST(IpCidr, Ipv6FormsParse) {
  EXPECT_EQ(cidr("::/0").to_string(), "0:0:0:0:0:0:0:0/0");
  EXPECT_EQ(cidr("fd00::1/128").to_string(), "fd00:0:0:0:0:0:0:1/128");
  EXPECT_EQ(cidr("1:2:3:4:5:6:7:8/64").to_string(), "1:2:3:4:0:0:0:0/64");
  EXPECT_EQ(cidr("::ffff:10.0.0.1/128").to_string(), "0:0:0:0:0:ffff:a00:1/128");
  EXPECT_FALSE(cidr("fd00::/8").contains(*Ipv4::parse("10.0.0.1")));
}

TEST(IpCidr, RejectsMalformedText) {
  for (const char* bad : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0/8", "10.0.0.0/-1",
                          "10.0.0.0/08", "1::2::3/64", "1:2:3:4:5:6:7:8:9/64", "12345::/16",
                          ":1/64", "1:/64", "::/129", "fd00::/x"}) {
    auto r = IpCidr::parse(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().message, std::string("invalid CIDR address: ") + bad);
    }
  }
}

}  // namespace
}  // namespace loom::policy
