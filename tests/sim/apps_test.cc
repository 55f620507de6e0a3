// Pod applications from ns-3's applications module (UDP echo, on-off,
// bulk TCP), started mid-run between pods made mid-run, as the scenario
// runner makes them when IPAM hands out addresses. The pods share one host
// whose FramePort receiver is a trivial bridge: every frame goes back out.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Ipv4 pod_ip(uint8_t last) { return Ipv4::from_octets(10, 32, 0, last); }

struct Pods {
  Pods() {
    world.run_for(seconds(1));  // the simulation is under way
    FramePort& port = world.host(h).bridge();
    port.on_receive([&port](ByteView frame) { port.send(frame); });
    for (uint8_t i = 0; i < 3; ++i) pods.push_back(world.add_pod(h, pod_ip(10 + i), 12));
  }
  World world;
  size_t h = world.add_host("h");
  std::vector<size_t> pods;
};

TEST(SimPodApps, UdpEchoMeasuresEveryRoundTrip) {
  Pods net;
  const size_t echo = net.world.udp_echo(net.pods[0], pod_ip(11), 5, milliseconds(100), 200);
  net.world.run_for(seconds(1));
  const PingStats& stats = net.world.ping_stats(echo);
  EXPECT_EQ(stats.sent, 5);
  ASSERT_EQ(stats.rtts.size(), 5u);
  // The first waits for ARP both ways; the bridge adds no delay after that.
  EXPECT_LE(stats.rtts[0], milliseconds(20));
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(stats.rtts[i], Time::zero());

  const size_t nobody = net.world.udp_echo(net.pods[0], pod_ip(99), 3, milliseconds(100), 200);
  net.world.run_for(seconds(1));
  EXPECT_EQ(net.world.ping_stats(nobody).sent, 3);
  EXPECT_TRUE(net.world.ping_stats(nobody).rtts.empty());
}

TEST(SimPodApps, OnOffSendsAtItsRateAndTheSinkCountsPerSender) {
  Pods net;
  const Time start = net.world.now();
  // Two senders into one sink port: 1 Mbps and 2 Mbps of 1,000-byte datagrams.
  const size_t slow = net.world.onoff(net.pods[0], pod_ip(12), 9000, "1Mbps", 1000, seconds(2));
  const size_t fast = net.world.onoff(net.pods[1], pod_ip(12), 9000, "2Mbps", 1000, seconds(2));
  net.world.run_for(seconds(3));
  const AppStats s = net.world.app_stats(slow);
  const AppStats f = net.world.app_stats(fast);
  // 125 and 250 datagrams a second, for two seconds.
  EXPECT_NEAR(static_cast<double>(s.packets_sent), 250, 1);
  EXPECT_NEAR(static_cast<double>(f.packets_sent), 500, 1);
  EXPECT_EQ(s.bytes_sent, s.packets_sent * 1000);
  EXPECT_EQ(s.packets_received, s.packets_sent);
  EXPECT_EQ(s.bytes_received, s.bytes_sent);
  EXPECT_EQ(f.packets_received, f.packets_sent);
  EXPECT_EQ(f.bytes_received, f.bytes_sent);
  EXPECT_FALSE(s.last_byte_at.has_value());
  // Nothing more once the duration is over.
  net.world.run_for(seconds(2));
  EXPECT_EQ(net.world.app_stats(slow).packets_sent, s.packets_sent);
  EXPECT_GT(net.world.now(), start);
}

TEST(SimPodApps, BulkTcpDeliversEveryByteAndSaysWhen) {
  Pods net;
  const Time start = net.world.now();
  constexpr uint64_t kBytes = 3'000'000;
  const size_t bulk = net.world.bulk_tcp(net.pods[0], pod_ip(11), 5001, kBytes);
  ASSERT_TRUE(net.world.run_until(
      [&] { return net.world.app_stats(bulk).last_byte_at.has_value(); }, start + seconds(30)));
  const AppStats stats = net.world.app_stats(bulk);
  EXPECT_EQ(stats.bytes_sent, kBytes);
  EXPECT_EQ(stats.bytes_received, kBytes);
  EXPECT_GT(*stats.last_byte_at, start);
  EXPECT_EQ(*stats.last_byte_at, net.world.now());
  // A second transfer to the same sink is counted on its own.
  const size_t again = net.world.bulk_tcp(net.pods[2], pod_ip(11), 5001, 1000);
  ASSERT_TRUE(
      net.world.run_until([&] { return net.world.app_stats(again).last_byte_at.has_value(); },
                          net.world.now() + seconds(10)));
  EXPECT_EQ(net.world.app_stats(again).bytes_received, 1000u);
  EXPECT_EQ(net.world.app_stats(bulk).bytes_received, kBytes);
}

TEST(SimPodApps, BadArgumentsThrow) {
  Pods net;
  EXPECT_THROW(net.world.udp_echo(9, pod_ip(11), 1, seconds(1), 64), std::out_of_range);
  EXPECT_THROW(net.world.udp_echo(0, pod_ip(11), 1, seconds(1), 3), std::invalid_argument);
  EXPECT_THROW(net.world.udp_echo(0, pod_ip(11), 0, seconds(1), 64), std::invalid_argument);
  EXPECT_THROW(net.world.onoff(0, pod_ip(11), 1, "fast", 100, seconds(1)), std::invalid_argument);
  EXPECT_THROW(net.world.onoff(0, pod_ip(11), 1, "1Mbps", 0, seconds(1)), std::invalid_argument);
  EXPECT_THROW(net.world.onoff(0, pod_ip(11), 1, "1Mbps", 100, Time::zero()),
               std::invalid_argument);
  EXPECT_THROW(net.world.bulk_tcp(0, pod_ip(11), 1, 0), std::invalid_argument);
  EXPECT_THROW(net.world.app_stats(0), std::out_of_range);
}

}  // namespace
}  // namespace loom::sim
