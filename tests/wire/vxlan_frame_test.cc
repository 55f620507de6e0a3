#include "model/wire/vxlan_frame.h"

#include <gtest/gtest.h>

#include "model/wire/arp.h"
#include "model/wire/checksum.h"
#include "model/wire/icmp.h"
#include "tests/wire/captures.h"
#include "tests/wire/hex.h"

namespace loom::wire {
namespace {

using testing::error_of;
using testing::from_hex;

// The tunnel Linux's vx0 used in the captures (src port from its flow hash).
VxlanTunnel captured_tunnel() {
  VxlanTunnel t;
  t.src_mac = *MacAddress::parse("02:00:00:00:00:01");
  t.dst_mac = *MacAddress::parse("02:00:00:00:00:02");
  t.src_ip = Ipv4::from_octets(192, 168, 77, 1);
  t.dst_ip = Ipv4::from_octets(192, 168, 77, 2);
  t.src_port = 0xC013;
  t.dst_port = kVxlanPort;
  t.vni = 42;
  t.dont_fragment = false;  // Linux vxlan's default (df unset)
  return t;
}

Bytes inner_of(const Bytes& frame) { return Bytes(frame.begin() + 50, frame.end()); }

void fix_ipv4_checksum(Bytes& frame, size_t at) {
  frame[at + 10] = frame[at + 11] = 0;
  const uint16_t sum = internet_checksum(ByteView(frame.data() + at, 20));
  frame[at + 10] = static_cast<uint8_t>(sum >> 8);
  frame[at + 11] = static_cast<uint8_t>(sum);
}

TEST(VxlanDecap, DecapsACapturedPing) {
  const Bytes frame = from_hex(testing::kVxlanPingRequestFrame);
  auto decap = vxlan_decap(frame, kVxlanPort);
  ASSERT_TRUE(decap) << error_of(decap);
  EXPECT_EQ(decap->outer_ip.src, Ipv4::from_octets(192, 168, 77, 1));
  EXPECT_EQ(decap->udp.dst_port, 4789);
  EXPECT_EQ(decap->vxlan.vni, 42u);
  EXPECT_EQ(decap->inner_frame().data(), frame.data() + 50);
  EXPECT_EQ(decap->inner_frame().to_bytes(), inner_of(frame));
  EXPECT_EQ(decap->inner.src.to_string(), "0a:00:00:00:0a:01");
  EXPECT_EQ(decap->inner.dst.to_string(), "0a:00:00:00:0b:02");
  EXPECT_EQ(decap->inner.ethertype, kEtherTypeIpv4);

  // And the layers inside decode too: the ping itself.
  auto ip = Ipv4Packet::decode(decap->inner.payload);
  ASSERT_TRUE(ip) << error_of(ip);
  auto echo = IcmpEcho::decode(ip->payload);
  ASSERT_TRUE(echo) << error_of(echo);
  EXPECT_EQ(echo->id, 0x1068);
}

TEST(VxlanDecap, DecapsACapturedArpAndAChecksummedPing) {
  const Bytes arp_bytes = from_hex(testing::kVxlanArpRequestFrame);
  auto arp_frame = vxlan_decap(arp_bytes, kVxlanPort);
  ASSERT_TRUE(arp_frame) << error_of(arp_frame);
  EXPECT_TRUE(arp_frame->inner.dst.is_broadcast());
  auto arp = ArpPacket::decode(arp_frame->inner.payload);
  ASSERT_TRUE(arp) << error_of(arp);
  EXPECT_EQ(arp->target_ip, Ipv4::from_octets(10, 77, 0, 2));

  const Bytes checksummed = from_hex(testing::kVxlanPingRequestWithUdpChecksumFrame);
  auto with_checksum = vxlan_decap(checksummed, kVxlanPort);
  ASSERT_TRUE(with_checksum) << error_of(with_checksum);
  EXPECT_EQ(with_checksum->udp.checksum, 0xAE29);
}

TEST(VxlanDecap, RefusesEveryTruncation) {
  const Bytes frame = from_hex(testing::kVxlanPingRequestFrame);
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(vxlan_decap(ByteView(frame.data(), n), kVxlanPort)) << n;
  }
}

TEST(VxlanDecap, SaysWhichLayerIsWrong) {
  const Bytes good = from_hex(testing::kVxlanPingRequestFrame);

  EXPECT_EQ(error_of(vxlan_decap(from_hex(testing::kArpRequestFrame), kVxlanPort)),
            "vxlan: outer EtherType 0x0806 is not IPv4");
  EXPECT_EQ(error_of(vxlan_decap(good, 6784)), "vxlan: UDP destination port 4789, expected 6784");

  Bytes icmp = good;
  icmp[14 + 9] = kIpProtocolIcmp;
  fix_ipv4_checksum(icmp, 14);
  EXPECT_EQ(error_of(vxlan_decap(icmp, kVxlanPort)),
            "vxlan: outer IPv4 protocol 1 is not UDP (17)");

  Bytes fragment = good;
  fragment[14 + 6] = 0x20;  // MF
  fix_ipv4_checksum(fragment, 14);
  EXPECT_EQ(error_of(vxlan_decap(fragment, kVxlanPort)),
            "vxlan: outer IPv4 packet is a fragment (offset 0, more fragments); fragments are not "
            "reassembled");
  fragment[14 + 6] = 0x00;
  fragment[14 + 7] = 0x10;  // offset 128
  fix_ipv4_checksum(fragment, 14);
  EXPECT_EQ(error_of(vxlan_decap(fragment, kVxlanPort)),
            "vxlan: outer IPv4 packet is a fragment (offset 128); fragments are not reassembled");

  Bytes no_i_flag = good;
  no_i_flag[42] = 0x00;
  EXPECT_EQ(error_of(vxlan_decap(no_i_flag, kVxlanPort)), "vxlan: I flag not set (flags 0x00)");

  Bytes bad_ip = good;
  bad_ip[14 + 8] = 1;  // TTL
  EXPECT_EQ(error_of(vxlan_decap(bad_ip, kVxlanPort)).substr(0, 22), "ipv4: header checksum ");

  Bytes bad_udp = from_hex(testing::kVxlanPingRequestWithUdpChecksumFrame);
  bad_udp.back() ^= 0x01;
  EXPECT_EQ(error_of(vxlan_decap(bad_udp, kVxlanPort)).substr(0, 30),
            "udp: checksum 0xae29 is wrong ");

  // A VXLAN packet whose inner frame is 10 bytes: shorten IP and UDP to fit.
  Bytes short_inner(good.begin(), good.begin() + 60);
  short_inner[14 + 2] = 0;
  short_inner[14 + 3] = 46;
  fix_ipv4_checksum(short_inner, 14);
  short_inner[34 + 4] = 0;
  short_inner[34 + 5] = 26;
  EXPECT_EQ(error_of(vxlan_decap(short_inner, kVxlanPort)),
            "vxlan: inner frame: ethernet: frame of 10 bytes is shorter than the 14-byte header");
}

TEST(VxlanDecap, AcceptsAnOuterVlanTag) {
  const Bytes untagged = from_hex(testing::kVxlanPingRequestFrame);
  Bytes tagged(untagged.begin(), untagged.begin() + 12);
  for (uint8_t b : {0x81, 0x00, 0x00, 0x0A}) tagged.push_back(b);
  tagged.insert(tagged.end(), untagged.begin() + 12, untagged.end());
  auto decap = vxlan_decap(tagged, kVxlanPort);
  ASSERT_TRUE(decap) << error_of(decap);
  EXPECT_EQ(decap->outer_ethernet.vlan->vid, 10);
  EXPECT_EQ(decap->inner_frame().to_bytes(), inner_of(untagged));
}

TEST(VxlanEncap, ReproducesLinuxFramesByteForByte) {
  const Bytes captured = from_hex(testing::kVxlanPingRequestFrame);
  Bytes out(200);
  auto written = vxlan_encap(captured_tunnel(), 0x36C7, inner_of(captured), out);
  ASSERT_TRUE(written) << error_of(written);
  EXPECT_EQ(*written, captured.size());
  out.resize(*written);
  EXPECT_EQ(out, captured);

  const Bytes checksummed = from_hex(testing::kVxlanPingRequestWithUdpChecksumFrame);
  VxlanTunnel tunnel = captured_tunnel();
  tunnel.udp_checksum = UdpChecksum::kCompute;
  Bytes out2(checksummed.size());
  ASSERT_TRUE(vxlan_encap(tunnel, 0x3C32, inner_of(checksummed), out2));
  EXPECT_EQ(out2, checksummed);
}

TEST(VxlanEncap, UsesWeaveFastdpDefaults) {
  const Bytes inner = inner_of(from_hex(testing::kVxlanPingRequestFrame));
  VxlanTunnel tunnel = captured_tunnel();
  tunnel = VxlanTunnel{.src_mac = tunnel.src_mac,
                       .dst_mac = tunnel.dst_mac,
                       .src_ip = tunnel.src_ip,
                       .dst_ip = tunnel.dst_ip,
                       .src_port = 40000,
                       .dst_port = 6784,
                       .vni = (2u << 12) | 1u};
  Bytes out(kVxlanOverhead + inner.size());
  ASSERT_TRUE(vxlan_encap(tunnel, 1, inner, out));
  auto decap = vxlan_decap(out, 6784);
  ASSERT_TRUE(decap) << error_of(decap);
  EXPECT_EQ(decap->outer_ip.ttl, 64);
  EXPECT_TRUE(decap->outer_ip.dont_fragment);
  EXPECT_EQ(decap->outer_ip.dscp, 0);
  EXPECT_EQ(decap->udp.checksum, 0);
  EXPECT_EQ(decap->vxlan.vni, 0x2001u);
  EXPECT_EQ(decap->inner_frame().to_bytes(), inner);
}

TEST(VxlanEncap, WrapsAnInnerFrameAlreadyInPlace) {
  const Bytes captured = from_hex(testing::kVxlanPingRequestFrame);
  Bytes out(captured.size(), 0);
  std::copy(captured.begin() + 50, captured.end(), out.begin() + 50);
  const ByteView inner(out.data() + kVxlanOverhead, captured.size() - kVxlanOverhead);
  ASSERT_TRUE(vxlan_encap(captured_tunnel(), 0x36C7, inner, out));
  EXPECT_EQ(out, captured);
}

TEST(VxlanEncap, RefusesShortInnerFramesBadFieldsAndSmallBuffers) {
  const Bytes inner(60, 0xAA);
  Bytes out(kVxlanOverhead + 60);
  EXPECT_EQ(error_of(vxlan_encap(captured_tunnel(), 0, ByteView(inner).subview(0, 13), out)),
            "vxlan: inner frame: ethernet: frame of 13 bytes is shorter than the 14-byte header");
  EXPECT_EQ(error_of(vxlan_encap(captured_tunnel(), 0, inner, std::span(out).first(109))),
            "vxlan: needs 110 bytes, buffer holds 109");
  VxlanTunnel tunnel = captured_tunnel();
  tunnel.vni = 1u << 24;
  EXPECT_EQ(error_of(vxlan_encap(tunnel, 0, inner, out)), "vxlan: VNI 16777216 exceeds 24 bits");
  tunnel = captured_tunnel();
  tunnel.dscp = 64;
  EXPECT_EQ(error_of(vxlan_encap(tunnel, 0, inner, out)), "ipv4: DSCP 64 exceeds 63");
}

TEST(VxlanEncap, RoundTripsAJumboInnerFrame) {
  Bytes inner(9000);
  for (size_t i = 0; i < inner.size(); ++i) inner[i] = static_cast<uint8_t>(i * 7);
  inner[12] = 0x08;  // a plausible EtherType
  inner[13] = 0x00;
  VxlanTunnel tunnel = captured_tunnel();
  tunnel.udp_checksum = UdpChecksum::kCompute;
  Bytes out(kVxlanOverhead + inner.size());
  ASSERT_TRUE(vxlan_encap(tunnel, 7, inner, out));
  auto decap = vxlan_decap(out, kVxlanPort);
  ASSERT_TRUE(decap) << error_of(decap);
  EXPECT_NE(decap->udp.checksum, 0);
  EXPECT_EQ(decap->inner_frame().to_bytes(), inner);
}

}  // namespace
}  // namespace loom::wire
