// The policy hook: a FlowVerdict decides each new flow once per direction;
// the flow cache answers for the rest, and forgets flows unused for a sweep
// interval (fastdp's 5 minutes) or flushed by a MAC move.
#include "model/dataplane/flow.h"

#include <gtest/gtest.h>

#include "model/dataplane/fastdp.h"
#include "model/dataplane/sleeve_frames.h"
#include "tests/dataplane/fake_pair.h"

namespace loom::dataplane::testing {
namespace {

using namespace std::chrono_literals;

class CountingVerdict final : public FlowVerdict {
 public:
  explicit CountingVerdict(bool allow) : allow_(allow) {}
  bool allow(const FlowKey&, FlowDirection direction) override {
    ++asked[static_cast<size_t>(direction)];
    return allow_;
  }
  size_t asked[2] = {0, 0};

 private:
  bool allow_;
};

// A broadcast frame carrying IPv4/UDP (or another protocol with the ports
// first: TCP, SCTP) 10.32.0.1:1000 -> 10.32.0.2:port.
Bytes udp_frame(uint16_t dst_port, uint8_t protocol = 17) {
  Bytes f = broadcast_frame(14 + 28 + 10);
  f[12] = 0x08;
  f[13] = 0x00;
  const uint8_t ip[20] = {0x45, 0, 0,  38, 0, 0, 0,  0,  64, protocol,
                          0,    0, 10, 32, 0, 1, 10, 32, 0,  2};
  std::copy(ip, ip + 20, f.begin() + 14);
  uint32_t sum = 0;
  for (size_t i = 0; i < 20; i += 2) sum += uint32_t{ip[i]} << 8 | ip[i + 1];
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  f[14 + 10] = static_cast<uint8_t>(~sum >> 8);
  f[14 + 11] = static_cast<uint8_t>(~sum);
  const uint8_t udp[8] = {
      0x03, 0xe8, static_cast<uint8_t>(dst_port >> 8), static_cast<uint8_t>(dst_port), 0, 18, 0, 0};
  std::copy(udp, udp + 8, f.begin() + 34);
  return f;
}

TEST(Flows, FlowOfReadsTheFiveTuple) {
  auto flow = flow_of(udp_frame(53));
  ASSERT_TRUE(flow);
  EXPECT_EQ(flow->src, Ipv4::from_octets(10, 32, 0, 1));
  EXPECT_EQ(flow->dst, Ipv4::from_octets(10, 32, 0, 2));
  EXPECT_EQ(flow->protocol, 17);
  EXPECT_EQ(flow->src_port, 1000);
  EXPECT_EQ(flow->dst_port, 53);
  EXPECT_FALSE(flow_of(broadcast_frame(60)));  // not IPv4
  // SCTP (NetworkPolicy's third protocol) has its ports where UDP has them.
  auto sctp = flow_of(udp_frame(3868, 132));
  ASSERT_TRUE(sctp);
  EXPECT_EQ(sctp->protocol, 132);
  EXPECT_EQ(sctp->src_port, 1000);
  EXPECT_EQ(sctp->dst_port, 3868);
}

TEST(Flows, VerdictIsAskedOncePerFlowAndDirection) {
  FakePair pair;
  pair.wire.run_for(1s);
  CountingVerdict a_verdict(true);
  CountingVerdict b_verdict(true);
  pair.a().set_flow_verdict(&a_verdict);
  pair.b().set_flow_verdict(&b_verdict);
  for (int i = 0; i < 5; ++i) pair.a_host().port.from_pod(udp_frame(53));
  pair.a_host().port.from_pod(udp_frame(54));
  pair.wire.run_for(10ms);
  EXPECT_EQ(pair.b_host().port.delivered, 6u);
  EXPECT_EQ(a_verdict.asked[0], 2u);  // egress, two flows
  EXPECT_EQ(a_verdict.asked[1], 0u);
  EXPECT_EQ(b_verdict.asked[1], 2u);  // ingress
  EXPECT_EQ(pair.a_host().metric("weave_flows"), 2);

  // Unused for two sweeps (marked, then dropped): forgotten; asked anew.
  pair.wire.run_for(10min + 1s);
  EXPECT_EQ(pair.a().flow_count(), 0u);
  EXPECT_EQ(pair.a_host().metric("weave_flows"), 0);
  pair.a_host().port.from_pod(udp_frame(53));
  pair.wire.run_for(10ms);
  EXPECT_EQ(a_verdict.asked[0], 3u);
}

TEST(Flows, DeniedFlowsAreDroppedAndCounted) {
  FakePair pair;
  pair.wire.run_for(1s);
  CountingVerdict deny(false);
  pair.b().set_flow_verdict(&deny);
  for (int i = 0; i < 4; ++i) pair.a_host().port.from_pod(udp_frame(80));
  pair.a_host().port.from_pod(broadcast_frame(60));  // not IPv4: not judged
  pair.wire.run_for(10ms);
  EXPECT_EQ(pair.b_host().port.delivered, 1u);
  EXPECT_EQ(deny.asked[1], 1u);
  EXPECT_EQ(pair.b_host().metric("loom_dataplane_dropped_frames_total", {{"reason", "policy"}}), 4);
}

// Allows only flows to one destination port (any other port, and a packet
// without ports, is denied).
class PortVerdict final : public FlowVerdict {
 public:
  explicit PortVerdict(uint16_t port) : port_(port) {}
  bool allow(const FlowKey& flow, FlowDirection) override { return flow.dst_port == port_; }

 private:
  uint16_t port_;
};

// One fragment of datagram `id`: the first (offset 0, more fragments, the
// UDP header to dst_port) or a later one (offset 1480, the last).
Bytes fragment(uint16_t id, uint16_t dst_port, bool first) {
  Bytes f = udp_frame(dst_port);
  f[14 + 4] = static_cast<uint8_t>(id >> 8);
  f[14 + 5] = static_cast<uint8_t>(id);
  const uint16_t flags_offset = first ? 0x2000 : 185;  // MF, or offset 185 * 8
  f[14 + 6] = static_cast<uint8_t>(flags_offset >> 8);
  f[14 + 7] = static_cast<uint8_t>(flags_offset);
  if (!first) std::fill(f.begin() + 34, f.end(), 0);  // no UDP header here
  return f;
}

TEST(Flows, FragmentsShareTheirFirstFragmentsVerdict) {
  auto first = fragment_of(fragment(7, 53, true));
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->first);
  EXPECT_EQ(first->id, 7);
  auto later = fragment_of(fragment(7, 53, false));
  ASSERT_TRUE(later);
  EXPECT_FALSE(later->first);
  EXPECT_FALSE(fragment_of(udp_frame(53)));  // not a fragment

  FakePair pair;
  pair.wire.run_for(1s);
  PortVerdict dns(53);
  pair.b().set_flow_verdict(&dns);
  // A datagram to 53 in two fragments: both delivered, though the second
  // carries no ports (judged alone it would be denied).
  pair.a_host().port.from_pod(fragment(7, 53, true));
  pair.a_host().port.from_pod(fragment(7, 53, false));
  pair.wire.run_for(10ms);
  EXPECT_EQ(pair.b_host().port.delivered, 2u);
  // To 80: both refused.
  pair.a_host().port.from_pod(fragment(8, 80, true));
  pair.a_host().port.from_pod(fragment(8, 80, false));
  // A later fragment whose first never came: refused, as reassembly would.
  pair.a_host().port.from_pod(fragment(9, 53, false));
  pair.wire.run_for(10ms);
  EXPECT_EQ(pair.b_host().port.delivered, 2u);
  EXPECT_EQ(pair.b_host().metric("loom_dataplane_dropped_frames_total", {{"reason", "policy"}}), 3);
  // Past their 30 s, remembered verdicts go.
  pair.wire.run_for(31s);
  pair.a_host().port.from_pod(fragment(7, 53, false));
  pair.wire.run_for(10ms);
  EXPECT_EQ(pair.b_host().port.delivered, 2u);
}

TEST(SleeveFrames, RoundTripAndTruncation) {
  Bytes batch;
  const Bytes f1(60, 1);
  const Bytes f2(100, 2);
  append_sleeve_frame(batch, PeerName(0x0a0000000001), PeerName(0x0a0000000002), f1);
  append_sleeve_frame(batch, PeerName(0x0a0000000003), PeerName(0x0a0000000004), f2);
  EXPECT_EQ(batch.size(), 14 + 60 + 14 + 100u);
  EXPECT_EQ(batch[0], 0x0a);
  EXPECT_EQ(batch[5], 0x01);
  EXPECT_EQ(batch[12], 0x00);
  EXPECT_EQ(batch[13], 60);
  std::vector<SleeveFrame> seen;
  ASSERT_TRUE(for_each_sleeve_frame(batch, [&](const SleeveFrame& f) { seen.push_back(f); }).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].src, PeerName(0x0a0000000003));
  EXPECT_EQ(seen[1].frame.to_bytes(), f2);

  Bytes cut(batch.begin(), batch.end() - 1);
  seen.clear();
  auto r = for_each_sleeve_frame(cut, [&](const SleeveFrame& f) { seen.push_back(f); });
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(seen.size(), 1u);  // the first frame was delivered, as in Weave
  EXPECT_NE(r.error().message.find("exceeds"), std::string::npos);
}

TEST(Fastdp, VniCarriesBothShortIds) {
  EXPECT_EQ(vni_for(0x123, 0xabc), 0xabc123u);
  EXPECT_EQ(vni_src(0xabc123), 0x123);
  EXPECT_EQ(vni_dst(0xabc123), 0xabc);
}

// Overlays in common, in the connecting side's order: a remote offering
// only sleeve gets sleeve only.
TEST(OverlaySwitch, OnlyCommonOverlaysAreUsed) {
  FakeWire wire;
  FakeHost host(wire, "h", Ipv4::from_octets(192, 168, 0, 1), 1);
  wire.attach(host);
  StaticTopology topology(PeerName(1), 1, {{PeerName(2), 2}});
  DataPlane plane(host);
  plane.attach(topology);
  ASSERT_TRUE(plane.start().ok());
  mesh::OverlayConnectionParams p;
  p.remote_peer = PeerName(2);
  p.remote_address = Endpoint{Ipv4::from_octets(192, 168, 0, 2), 6783};
  p.outbound = true;
  p.remote_features["Overlays"] = "sleeve";
  auto conn = plane.prepare(p, {});
  ASSERT_TRUE(conn.ok());
  (*conn)->confirm();
  EXPECT_EQ(plane.connection_to(PeerName(2))->best_overlay(), "sleeve");
  EXPECT_EQ(to_json(plane.status())["Connections"][0]["Overlay"], "sleeve");
  p.remote_features["Overlays"] = "awsvpc";
  auto none = plane.prepare(p, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "no overlays in common with peer");
  (*conn)->stop();
}

// A remote whose handshake has no "Overlays" feature (an old Weave) gets
// Weave's compatibility overlay, sleeve alone; ours is what mesh sends.
TEST(OverlaySwitch, ARemoteWithoutTheFeatureGetsSleeveAlone) {
  FakeWire wire;
  FakeHost host(wire, "h", Ipv4::from_octets(192, 168, 0, 1), 1);
  wire.attach(host);
  StaticTopology topology(PeerName(1), 1, {{PeerName(2), 2}});
  DataPlane plane(host);
  EXPECT_EQ(plane.advertised_overlays(), "fastdp sleeve");
  plane.attach(topology);
  ASSERT_TRUE(plane.start().ok());
  mesh::OverlayConnectionParams p;
  p.remote_peer = PeerName(2);
  p.remote_address = Endpoint{Ipv4::from_octets(192, 168, 0, 2), 6783};
  p.outbound = true;
  auto conn = plane.prepare(p, {});
  ASSERT_TRUE(conn.ok());
  (*conn)->confirm();
  EXPECT_EQ(plane.connection_to(PeerName(2))->best_overlay(), "sleeve");
  (*conn)->stop();
}

}  // namespace
}  // namespace loom::dataplane::testing
