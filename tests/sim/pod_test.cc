// A pod's own ns-3 stack talks through bridge(): the pod pings an address,
// and this test, as the host's FramePort receiver, answers the ARP request
// and the ICMP echoes with frames built by hand.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<uint8_t, 6> kResponderMac{0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
const Ipv4 kResponderIp = Ipv4::from_octets(10, 32, 0, 1);
const Ipv4 kPodIp = Ipv4::from_octets(10, 32, 0, 2);

uint16_t get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
void put16(Bytes& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
uint32_t get32(const Bytes& b, size_t at) {
  return static_cast<uint32_t>(get16(b, at)) << 16 | get16(b, at + 2);
}
uint16_t checksum(const Bytes& b, size_t at, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += get16(b, at + i);
  if (len % 2) sum += static_cast<uint32_t>(b[at + len - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// What the responder saw and answered.
struct Responder {
  FramePort& port;
  std::vector<std::string> seen;

  void receive(ByteView view) {
    const Bytes in = view.to_bytes();
    ASSERT_GE(in.size(), 14u);
    const uint16_t type = get16(in, 12);
    if (type == 0x0806 && get16(in, 20) == 1 && get32(in, 38) == kResponderIp.value) {
      seen.push_back("arp request from " + Ipv4(get32(in, 28)).to_string());
      Bytes out(42);
      std::copy(in.begin() + 6, in.begin() + 12, out.begin());  // to the asker
      std::copy(kResponderMac.begin(), kResponderMac.end(), out.begin() + 6);
      put16(out, 12, 0x0806);
      put16(out, 14, 1);       // Ethernet
      put16(out, 16, 0x0800);  // IPv4
      out[18] = 6;
      out[19] = 4;
      put16(out, 20, 2);  // reply
      std::copy(kResponderMac.begin(), kResponderMac.end(), out.begin() + 22);
      std::copy(in.begin() + 38, in.begin() + 42, out.begin() + 28);  // our IP
      std::copy(in.begin() + 22, in.begin() + 32, out.begin() + 32);  // their MAC, IP
      EXPECT_TRUE(port.send(out));
    } else if (type == 0x0800 && in[23] == 1 && in[34] == 8) {  // ICMP echo request
      seen.push_back("echo request of " + std::to_string(in.size()) + " bytes");
      Bytes out = in;
      std::copy(in.begin() + 6, in.begin() + 12, out.begin());
      std::copy(kResponderMac.begin(), kResponderMac.end(), out.begin() + 6);
      std::copy(in.begin() + 26, in.begin() + 30, out.begin() + 30);  // swap addresses
      std::copy(in.begin() + 30, in.begin() + 34, out.begin() + 26);
      out[22] = 64;  // TTL
      put16(out, 24, 0);
      put16(out, 24, checksum(out, 14, 20));
      out[34] = 0;  // echo reply
      put16(out, 36, 0);
      put16(out, 36, checksum(out, 34, out.size() - 34));
      EXPECT_TRUE(port.send(out));
    } else {
      seen.push_back("other");
    }
  }
};

TEST(SimPod, PingsThroughBridgeAnsweredByTheFramePortReceiver) {
  World world;
  const size_t h = world.add_host("h");
  const size_t pod = world.add_pod(h, kPodIp, 12);
  FramePort& port = world.host(h).bridge();
  EXPECT_EQ(port.mtu(), 1376u);
  Responder responder{port, {}};
  port.on_receive([&](ByteView frame) { responder.receive(frame); });

  world.run_for(seconds(1));
  const size_t ping = world.ping(pod, kResponderIp, 3, seconds(1));
  world.run_for(seconds(5));

  const PingStats& stats = world.ping_stats(ping);
  EXPECT_EQ(stats.sent, 3);
  ASSERT_EQ(stats.rtts.size(), 3u);
  // The first echo waits for ARP (ns-3 jitters ARP requests by up to 10 ms);
  // the bridge itself adds no delay, so the rest come back at once.
  EXPECT_LE(stats.rtts[0], milliseconds(10));
  EXPECT_EQ(stats.rtts[1], Time::zero());
  EXPECT_EQ(stats.rtts[2], Time::zero());
  // 56 data + 8 ICMP + 20 IPv4 + 14 Ethernet.
  EXPECT_EQ(responder.seen,
            (std::vector<std::string>{"arp request from 10.32.0.2", "echo request of 98 bytes",
                                      "echo request of 98 bytes", "echo request of 98 bytes"}));
}

TEST(SimPod, BridgeSendRefusesWhatNoPodTakes) {
  WorldOptions options;
  options.pod_mtu = 1000;
  World world(options);
  const size_t h = world.add_host("h");
  FramePort& port = world.host(h).bridge();
  EXPECT_EQ(port.mtu(), 1000u);
  Bytes broadcast(60, 0);
  std::fill(broadcast.begin(), broadcast.begin() + 6, 0xff);
  put16(broadcast, 12, 0x0806);
  EXPECT_FALSE(port.send(broadcast));  // no pod yet
  world.add_pod(h, kPodIp, 12);
  EXPECT_TRUE(port.send(broadcast));
  Bytes unicast = broadcast;
  std::copy(kResponderMac.begin(), kResponderMac.end(), unicast.begin());
  EXPECT_FALSE(port.send(unicast));                 // nobody has that MAC
  EXPECT_FALSE(port.send(Bytes(1000 + 15, 0xff)));  // above the MTU
  EXPECT_FALSE(port.send(Bytes(10, 0xff)));         // not a frame
  world.run_for(milliseconds(1));
}

}  // namespace
}  // namespace loom::sim
