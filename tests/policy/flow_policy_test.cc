// The engine behind the data plane: two DataPlanes (tests/dataplane's
// FakePair), each with a FlowPolicy for its own pods. x/a (on host A) is
// closed to all ingress; x/b (on host B) admits UDP 53 from x/a. Frames
// must be delivered or dropped as the policies say, and replies must come
// back through x/a's closed ingress.
#include "model/policy/flow_policy.h"

#include <gtest/gtest.h>

#include "model/wire/ethernet.h"
#include "model/wire/ipv4.h"
#include "model/wire/udp.h"
#include "tests/dataplane/fake_pair.h"
#include "tests/policy/policy_test_util.h"

namespace loom::policy {
namespace {

using namespace std::chrono_literals;
using dataplane::testing::FakePair;

const Ipv4 kPodA = Ipv4::from_octets(10, 32, 0, 1);
const Ipv4 kPodB = Ipv4::from_octets(10, 32, 0, 2);

// A broadcast Ethernet frame from the pod with MAC 02:00:00:00:00:mac,
// carrying IPv4/UDP src -> dst with 4 bytes of payload.
Bytes udp_frame(uint8_t mac, Ipv4 src, uint16_t src_port, Ipv4 dst, uint16_t dst_port) {
  constexpr size_t kIp = wire::EthernetFrame::kHeaderSize;
  constexpr size_t kUdp = kIp + wire::Ipv4Packet::kMinHeaderSize;
  Bytes f(kUdp + wire::UdpDatagram::kHeaderSize + 4, 0);
  const std::span<uint8_t> all(f);
  wire::UdpDatagram udp{src_port, dst_port, 0, ByteView(f.data() + kUdp + 8, 4)};
  EXPECT_TRUE(udp.encode(all.subspan(kUdp), src, dst, wire::UdpChecksum::kCompute));
  wire::Ipv4Packet ip;
  ip.protocol = wire::kIpProtocolUdp;
  ip.src = src;
  ip.dst = dst;
  ip.payload = ByteView(f.data() + kUdp, udp.size());
  EXPECT_TRUE(ip.encode(all.subspan(kIp)));
  wire::EthernetFrame eth;
  eth.dst = wire::MacAddress::broadcast();
  eth.src = wire::MacAddress{{0x02, 0, 0, 0, 0, mac}};
  eth.ethertype = wire::kEtherTypeIpv4;
  eth.payload = ByteView(f.data() + kIp, ip.total_length());
  EXPECT_TRUE(eth.encode(all));
  return f;
}

class FlowPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine.set_node("a", pair.a_host().address());
    engine.set_node("b", pair.b_host().address());
    ASSERT_TRUE(engine.set_pod({"x", "a", {{"app", "a"}}, kPodA, "a", {}}));
    ASSERT_TRUE(engine.set_pod({"x", "b", {{"app", "b"}}, kPodB, "b", {}}));
    testing::apply_policies(engine, R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-closed, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-dns-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
    ports: [{protocol: UDP, port: 53}]
)");
    pair.wire.run_for(1s);
    ASSERT_TRUE(pair.established());
    pair.a().set_flow_verdict(&a_policy);
    pair.b().set_flow_verdict(&b_policy);
  }

  void send_from_a(uint16_t src_port, uint16_t dst_port) {
    pair.a_host().port.from_pod(udp_frame(1, kPodA, src_port, kPodB, dst_port));
    pair.wire.run_for(10ms);
  }
  void send_from_b(uint16_t src_port, uint16_t dst_port) {
    pair.b_host().port.from_pod(udp_frame(2, kPodB, src_port, kPodA, dst_port));
    pair.wire.run_for(10ms);
  }
  double a_metric(const char* direction, const char* verdict) {
    return pair.a_host().metric("loom_policy_flows_total",
                                {{"direction", direction}, {"verdict", verdict}});
  }

  FakePair pair;
  PolicyEngine engine;
  FlowPolicy a_policy{pair.a_host(), engine};
  FlowPolicy b_policy{pair.b_host(), engine};
};

TEST_F(FlowPolicyTest, EachHostEnforcesItsOwnPodsSide) {
  send_from_a(1000, 53);
  EXPECT_EQ(pair.b_host().port.delivered, 1u);
  send_from_a(1000, 80);  // x/b's ingress admits 53 only
  EXPECT_EQ(pair.b_host().port.delivered, 1u);
  EXPECT_EQ(pair.b_host().metric("loom_dataplane_dropped_frames_total", {{"reason", "policy"}}), 1);
  EXPECT_EQ(a_metric("egress", "allowed"), 2);  // x/a's egress is open
}

TEST_F(FlowPolicyTest, RepliesComeBackThroughAClosedIngress) {
  send_from_a(1000, 53);
  send_from_b(53, 1000);  // the reply
  EXPECT_EQ(pair.a_host().port.delivered, 1u);
  EXPECT_EQ(a_metric("ingress", "reply"), 1);
  EXPECT_EQ(pair.b_host().metric("loom_policy_flows_total",
                                 {{"direction", "egress"}, {"verdict", "reply"}}),
            1);
  send_from_b(2000, 1000);  // a new connection the other way: x/a admits nothing
  EXPECT_EQ(pair.a_host().port.delivered, 1u);
  EXPECT_EQ(a_metric("ingress", "denied"), 1);
}

TEST_F(FlowPolicyTest, IdleConnectionsAreSweptOnTheHostsClock) {
  send_from_a(1000, 53);
  EXPECT_EQ(a_policy.tracked(), 1u);
  EXPECT_EQ(pair.a_host().metric("loom_policy_conntrack_entries"), 1);
  pair.wire.run_for(2min);  // UDP, unreplied: 30 s, swept within a minute
  EXPECT_EQ(a_policy.tracked(), 0u);
  EXPECT_EQ(b_policy.tracked(), 0u);
  EXPECT_EQ(pair.a_host().metric("loom_policy_conntrack_entries"), 0);
}

}  // namespace
}  // namespace loom::policy
