// With a password, the data plane seals what it sends: fastdp as ESP in
// UDP 4500, sleeve with secretbox. Pods do not notice; the MTUs do.
#include <gtest/gtest.h>

#include "model/wire/ethernet.h"
#include "model/wire/icmp_unreachable.h"
#include "model/wire/ipv4.h"
#include "tests/dataplane/dataplane_test_net.h"

namespace loom::dataplane::testing {
namespace {

constexpr const char* kPassword = "loom data plane test password";

PeerOptions with_password(std::vector<std::string> overlays = {"fastdp", "sleeve"}) {
  PeerOptions o;
  o.password = kPassword;
  o.dataplane.overlays = std::move(overlays);
  return o;
}

double rejected(DataplaneNet& net, size_t i) {
  double sum = 0;
  for (const auto& s : net.host(i).metrics().snapshot()) {
    if (s.name == "loom_dataplane_rejected_packets_total") sum += s.value;
  }
  return sum;
}

// Plain VXLAN is blocked everywhere, yet fastdp establishes: it travels
// sealed in ESP on UDP 4500.
TEST(DataplaneEncryption, EncryptedFastdpCarriesPodsInEspOnly) {
  DataplaneNet net;
  for (int i = 0; i < 3; ++i) net.add_peer(with_password());
  std::vector<size_t> pods;
  for (size_t i = 0; i < 3; ++i) pods.push_back(net.add_pod(i));
  for (size_t i = 0; i < 3; ++i) net.world().set_udp_port_blocked(net.host_index(i), 6784, true);
  net.start();
  net.connect(1, 0);
  net.connect(2, 0);
  ASSERT_TRUE(net.run_until(
      [&] {
        return net.converged() && net.overlay(0, 1) == "fastdp" && net.overlay(0, 2) == "fastdp" &&
               net.overlay(1, 2) == "fastdp";
      },
      20s));
  for (size_t a = 0; a < 3; ++a) {
    for (size_t b = 0; b < 3; ++b) {
      if (a != b) {
        EXPECT_EQ(net.ping(pods[a], pods[b], 3), 3u) << a << " -> " << b;
      }
    }
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(net.metric(i, "loom_dataplane_sent_frames_total", {{"overlay", "sleeve"}}), 0);
    EXPECT_EQ(rejected(net, i), 0) << i;
    const auto status = net.plane(i).status();
    ASSERT_EQ(status.connections.size(), 2u);
    for (const auto& c : status.connections) {
      EXPECT_TRUE(c.encrypted);
      EXPECT_EQ(c.mtu, 1376u);
    }
  }
  EXPECT_NE(net.mesh(0).status().connections[0].info.find("fastdp mtu=1376 encrypted"),
            std::string::npos)
      << net.mesh(0).status().connections[0].info;
}

// ESP blocked: IPsec heartbeats never arrive, fastdp fails after 60 s and
// the connection carries on over encrypted sleeve, whose MTU is 1414.
TEST(DataplaneEncryption, WithoutEspTheConnectionUsesEncryptedSleeveAt1414) {
  DataplaneNet net;
  for (int i = 0; i < 2; ++i) net.add_peer(with_password());
  const size_t pod0 = net.add_pod(0);
  const size_t pod1 = net.add_pod(1);
  for (size_t i = 0; i < 2; ++i) net.world().set_udp_port_blocked(net.host_index(i), 4500, true);
  net.start();
  net.connect(1, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 10s));
  EXPECT_EQ(net.overlay(0, 1), "sleeve");
  EXPECT_EQ(net.ping(pod0, pod1, 3), 3u);
  EXPECT_TRUE(net.logged("Effective MTU verified at 1414"));
  EXPECT_FALSE(net.logged("Effective MTU verified at 1438"));
  ASSERT_TRUE(
      net.run_until([&] { return net.logged("timed out waiting for vxlan heartbeat"); }, 70s));
  EXPECT_EQ(net.ping(pod0, pod1, 3), 3u);
  EXPECT_EQ(net.plane(0).status().connections.at(0).mtu, 1414u);
  EXPECT_EQ(rejected(net, 0) + rejected(net, 1), 0);
}

// A frame as pod `from` (whose MAC and IP are given) would send: IPv4 to
// `to`, total length `size`, DF as asked, UDP inside.
Bytes ipv4_frame(const wire::MacAddress& src_mac, const wire::MacAddress& dst_mac, Ipv4 src,
                 Ipv4 dst, size_t size, bool df) {
  Bytes payload(size - 20, 0x5a);
  payload[0] = 0x30;  // UDP ports 12345 -> 12346, length, no checksum
  payload[1] = 0x39;
  payload[2] = 0x30;
  payload[3] = 0x3a;
  payload[4] = static_cast<uint8_t>((size - 20) >> 8);
  payload[5] = static_cast<uint8_t>(size - 20);
  payload[6] = payload[7] = 0;
  wire::Ipv4Packet ip;
  ip.src = src;
  ip.dst = dst;
  ip.protocol = 17;
  ip.dont_fragment = df;
  ip.payload = payload;
  Bytes ip_bytes(size);
  EXPECT_TRUE(ip.encode(ip_bytes).ok());
  wire::EthernetFrame eth;
  eth.src = src_mac;
  eth.dst = dst_mac;
  eth.ethertype = wire::kEtherTypeIpv4;
  eth.payload = ip_bytes;
  Bytes out(eth.size());
  EXPECT_TRUE(eth.encode(out).ok());
  return out;
}

wire::MacAddress local_mac(DataplaneNet& net, size_t i) {
  for (const auto& e : net.plane(i).macs().entries()) {
    if (e.peer == peer_name(i)) return e.mac;
  }
  ADD_FAILURE() << "peer " << i << " has no local MAC";
  return {};
}

// Pods with a 1500-byte MTU over sleeve (1438 on a 1500-byte underlay): a
// DF packet too big gets ICMP fragmentation-needed with MTU 1438 back, as
// if from its destination; one without DF is sent (the underlay fragments).
TEST(DataplaneMtu, SleeveAnswersOversizedDfWithFragNeededAndCarriesTheRest) {
  DataplaneNet net(1, 1500);
  PeerOptions o;
  o.dataplane.overlays = {"sleeve"};
  for (int i = 0; i < 2; ++i) net.add_peer(o);
  const size_t pod0 = net.add_pod(0);
  const size_t pod1 = net.add_pod(1);
  net.start();
  net.connect(1, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 10s));
  ASSERT_EQ(net.ping(pod0, pod1, 1), 1u);
  ASSERT_TRUE(net.logged("Effective MTU verified at 1438"));
  const wire::MacAddress mac0 = local_mac(net, 0);
  const wire::MacAddress mac1 = local_mac(net, 1);

  net.tap(0).delivered.clear();
  net.tap(1).delivered.clear();
  net.tap(0).from_pod(ipv4_frame(mac0, mac1, pod_ip(pod0), pod_ip(pod1), 1500, true));
  net.world().run_for(100ms);
  ASSERT_EQ(net.tap(0).delivered.size(), 1u);
  EXPECT_TRUE(net.tap(1).delivered.empty());
  auto eth = wire::EthernetFrame::decode(net.tap(0).delivered[0]);
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->dst, mac0);
  EXPECT_EQ(eth->src, mac1);
  auto ip = wire::Ipv4Packet::decode(eth->payload);
  ASSERT_TRUE(ip.ok()) << ip.error().message;
  EXPECT_EQ(ip->src, pod_ip(pod1));
  EXPECT_EQ(ip->dst, pod_ip(pod0));
  auto icmp = wire::IcmpDestUnreachable::decode(ip->payload);
  ASSERT_TRUE(icmp.ok()) << icmp.error().message;
  EXPECT_EQ(icmp->code, wire::kIcmpCodeFragNeeded);
  EXPECT_EQ(icmp->next_hop_mtu, 1438);
  EXPECT_EQ(icmp->original.size(), 28u);  // the IP header and 8 bytes
  EXPECT_EQ(net.metric(0, "loom_dataplane_icmp_frag_needed_total"), 1);

  // 1438 with DF fits; 1500 without DF goes too.
  net.tap(0).from_pod(ipv4_frame(mac0, mac1, pod_ip(pod0), pod_ip(pod1), 1438, true));
  net.tap(0).from_pod(ipv4_frame(mac0, mac1, pod_ip(pod0), pod_ip(pod1), 1500, false));
  net.world().run_for(100ms);
  ASSERT_EQ(net.tap(1).delivered.size(), 2u);
  EXPECT_EQ(net.tap(1).delivered[0].size(), 14u + 1438);
  EXPECT_EQ(net.tap(1).delivered[1].size(), 14u + 1500);
}

// fastdp has no PMTU discovery: a frame over the datapath MTU (1376) is dropped and counted.
TEST(DataplaneMtu, FastdpDropsFramesOverItsMtu) {
  DataplaneNet net(1, 1500);
  for (int i = 0; i < 2; ++i) net.add_peer();
  const size_t pod0 = net.add_pod(0);
  const size_t pod1 = net.add_pod(1);
  net.start();
  net.connect(1, 0);
  ASSERT_TRUE(net.run_until([&] { return net.converged() && net.overlay(0, 1) == "fastdp"; }, 10s));
  ASSERT_EQ(net.ping(pod0, pod1, 1), 1u);
  const wire::MacAddress mac0 = local_mac(net, 0);
  const wire::MacAddress mac1 = local_mac(net, 1);
  net.tap(1).delivered.clear();
  net.tap(0).from_pod(ipv4_frame(mac0, mac1, pod_ip(pod0), pod_ip(pod1), 1377, false));
  net.tap(0).from_pod(ipv4_frame(mac0, mac1, pod_ip(pod0), pod_ip(pod1), 1376, false));
  net.world().run_for(100ms);
  ASSERT_EQ(net.tap(1).delivered.size(), 1u);
  EXPECT_EQ(net.tap(1).delivered[0].size(), 14u + 1376);
  EXPECT_EQ(net.dropped(0, Drop::kTooBig), 1);
}

}  // namespace
}  // namespace loom::dataplane::testing
