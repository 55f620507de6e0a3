#include "model/ipam/address.h"

#include <gtest/gtest.h>

namespace loom::ipam {
namespace {

Address A(const char* text) { return *parse_address(text); }

TEST(IpamAddress, ParsesAndPrintsDottedQuads) {
  EXPECT_EQ(A("10.32.0.1"), 0x0A200001u);
  EXPECT_EQ(format_address(0x0A200001u), "10.32.0.1");
  const auto bad = parse_address("10.32.0");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "invalid IP address: \"10.32.0\"");
}

TEST(IpamAddress, DefaultUniverseIsAMillionAddresses) {
  const auto cidr = parse_allocation_range("10.32.0.0/12");
  ASSERT_TRUE(cidr.ok());
  EXPECT_EQ(cidr->to_string(), "10.32.0.0/12");
  EXPECT_EQ(cidr->size(), 1048576u);
  EXPECT_EQ(cidr->range(), (Range{A("10.32.0.0"), A("10.48.0.0")}));
  EXPECT_EQ(cidr->range().as_cidr_string(), "10.32.0.0/12");
}

TEST(IpamAddress, CidrParseErrorsSayWhatIsWrong) {
  auto message = [](const char* text) {
    const auto r = Cidr::parse(text);
    EXPECT_FALSE(r.ok()) << text;
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_EQ(message("10.32.0.0"), "invalid CIDR address: \"10.32.0.0\" (no /prefix length)");
  EXPECT_EQ(message("10.32.0/12"),
            "invalid CIDR address: \"10.32.0/12\" (the address is not a dotted quad)");
  EXPECT_EQ(message("10.32.0.0/33"),
            "invalid CIDR address: \"10.32.0.0/33\" (the prefix length must be 0-32)");
  EXPECT_EQ(message("10.32.0.0/"),
            "invalid CIDR address: \"10.32.0.0/\" (the prefix length is not a number)");
  EXPECT_EQ(message("10.32.0.0/1x"),
            "invalid CIDR address: \"10.32.0.0/1x\" (the prefix length is not a number)");
  EXPECT_EQ(message("10.32.0.0/-1"),
            "invalid CIDR address: \"10.32.0.0/-1\" (the prefix length is not a number)");
  EXPECT_EQ(message("10.32.0.0/012"),
            "invalid CIDR address: \"10.32.0.0/012\" (the prefix length is not a number)");
}

TEST(IpamAddress, SubnetsNeedClearHostBitsAndFourAddresses) {
  const auto unaligned = parse_subnet("10.32.0.1/12");
  ASSERT_FALSE(unaligned.ok());
  EXPECT_EQ(unaligned.error().message,
            "invalid subnet - bits after network prefix are not all zero: 10.32.0.1/12");
  const auto tiny = parse_subnet("10.32.0.0/31");
  ASSERT_FALSE(tiny.ok());
  EXPECT_EQ(tiny.error().message, "invalid subnet - smaller than minimum size 4: 10.32.0.0/31");
  EXPECT_TRUE(parse_subnet("10.32.0.0/30").ok());
  // Cidr::parse itself keeps the address as written.
  EXPECT_EQ(Cidr::parse("10.32.0.1/12")->addr, A("10.32.0.1"));
}

TEST(IpamAddress, UniverseMayNotReachTheTopOfTheAddressSpace) {
  EXPECT_FALSE(parse_allocation_range("255.255.255.252/30").ok());
  EXPECT_FALSE(parse_allocation_range("0.0.0.0/0").ok());
  EXPECT_TRUE(parse_allocation_range("255.255.255.248/30").ok());
}

TEST(IpamAddress, HostRangeLeavesOutNetworkAndBroadcast) {
  const Cidr c = *parse_subnet("10.0.0.0/24");
  EXPECT_EQ(c.host_range(), (Range{A("10.0.0.1"), A("10.0.0.255")}));
  EXPECT_EQ(c.host_range().size(), 254u);
  EXPECT_EQ(parse_subnet("10.0.0.4/30")->host_range(), (Range{A("10.0.0.5"), A("10.0.0.7")}));
  EXPECT_TRUE(Cidr::parse("10.0.0.4/31")->host_range().empty());
  EXPECT_TRUE(Cidr::parse("10.0.0.4/32")->host_range().empty());
}

TEST(IpamAddress, RangePrintsLastAddressInclusive) {
  const Range r{A("10.0.0.0"), A("10.0.1.0")};
  EXPECT_EQ(r.to_string(), "10.0.0.0-10.0.0.255");
  EXPECT_EQ(r.as_cidr_string(), "10.0.0.0/24");
  EXPECT_EQ((Range{A("10.0.0.0"), A("10.0.0.3")}).as_cidr_string(), "10.0.0.0-10.0.0.2");
  EXPECT_TRUE(r.contains(A("10.0.0.255")));
  EXPECT_FALSE(r.contains(A("10.0.1.0")));
  EXPECT_TRUE(r.overlaps(Range{A("10.0.0.255"), A("10.0.2.0")}));
  EXPECT_FALSE(r.overlaps(Range{A("10.0.1.0"), A("10.0.2.0")}));
}

TEST(IpamAddress, BiggestCidrBlockIsTheLargestAlignedOneLowestFirst) {
  auto block = [](Address start, Address end) { return Range{start, end}.biggest_cidr_block(); };
  // Aligned already.
  EXPECT_EQ(block(0, 256), (Range{0, 256}));
  // 10 addresses from 3: [4, 12) is not aligned to 8... [8, 16) does not
  // fit; 4-blocks at 4 and 8 fit, the lower wins.
  EXPECT_EQ(block(3, 13), (Range{4, 8}));
  // From 1 to 17: [8, 16) fits.
  EXPECT_EQ(block(1, 17), (Range{8, 16}));
  // A single address.
  EXPECT_EQ(block(7, 8), (Range{7, 8}));
  // Odd start, size 2: only single addresses are aligned.
  EXPECT_EQ(block(5, 7), (Range{5, 6}));
  EXPECT_TRUE(block(5, 5).empty());
  // Weave's own example shapes: [10.0.0.10, 10.0.0.245) holds a /26 at .64.
  EXPECT_EQ(block(A("10.0.0.10"), A("10.0.0.245")), (Range{A("10.0.0.64"), A("10.0.0.128")}));
}

TEST(IpamAddress, RingDistanceAndRangesWrapAtTheUniverseEnd) {
  const Range u{A("10.0.0.0"), A("10.0.1.0")};
  EXPECT_EQ(ring_distance(u, A("10.0.0.10"), A("10.0.0.20")), 10u);
  EXPECT_EQ(ring_distance(u, A("10.0.0.250"), A("10.0.0.4")), 10u);
  EXPECT_EQ(ring_distance(u, A("10.0.0.7"), A("10.0.0.7")), 256u);  // all the way round
  EXPECT_EQ(ring_ranges(u, A("10.0.0.10"), A("10.0.0.20")),
            (std::vector<Range>{{A("10.0.0.10"), A("10.0.0.20")}}));
  EXPECT_EQ(ring_ranges(u, A("10.0.0.250"), A("10.0.0.4")),
            (std::vector<Range>{{A("10.0.0.0"), A("10.0.0.4")}, {A("10.0.0.250"), A("10.0.1.0")}}));
  // An end at the universe's start means its end.
  EXPECT_EQ(ring_ranges(u, A("10.0.0.250"), A("10.0.0.0")),
            (std::vector<Range>{{A("10.0.0.250"), A("10.0.1.0")}}));
}

}  // namespace
}  // namespace loom::ipam
