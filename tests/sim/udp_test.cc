// UDP between two linked hosts: payload, source, and the latency a link of
// known rate and delay must give.
#include <chrono>
#include <optional>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

struct Received {
  Endpoint from;
  Bytes payload;
  Time at;
};

TEST(SimUdp, DeliversPayloadFromThePeersAddressAfterDelayPlusSerialisation) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b, LinkSpec{"1Gbps", milliseconds(1), 0.0});
  Host& ha = world.host(a);
  Host& hb = world.host(b);
  EXPECT_EQ(ha.address().to_string(), "172.16.0.1");
  EXPECT_EQ(hb.address().to_string(), "172.16.0.2");

  auto sa = ha.udp(6784);
  auto sb = hb.udp(6784);
  ASSERT_TRUE(sa.ok());
  ASSERT_TRUE(sb.ok());
  std::optional<Received> got;
  (*sb)->on_receive([&](const Endpoint& from, ByteView payload) {
    got = Received{from, payload.to_bytes(), hb.now()};
  });
  const Bytes payload(100, 0xab);
  ha.after(milliseconds(10), [&] { EXPECT_TRUE((*sa)->send_to({hb.address(), 6784}, payload)); });
  world.run_until(milliseconds(50));

  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, payload);
  EXPECT_EQ(got->from, (Endpoint{ha.address(), 6784}));
  // 100 payload + 8 UDP + 20 IPv4 + 2 PPP = 130 bytes at 1 Gbit/s = 1040 ns.
  EXPECT_EQ(got->at, milliseconds(10) + milliseconds(1) + nanoseconds(1040));
}

TEST(SimUdp, PortsAreOwnedByTheHost) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  Host& ha = world.host(a);
  auto first = ha.udp(6783);
  auto again = ha.udp(6783);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*first, *again);
  EXPECT_EQ((*first)->port(), 6783);
  auto e1 = ha.udp(0);
  auto e2 = ha.udp(0);
  ASSERT_TRUE(e1.ok());
  ASSERT_TRUE(e2.ok());
  EXPECT_NE(*e1, *e2);
  EXPECT_NE((*e1)->port(), 0);
  EXPECT_NE((*e1)->port(), (*e2)->port());
}

TEST(SimUdp, RefusesWhatCannotBeSent) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  auto socket = world.host(a).udp(6784);
  ASSERT_TRUE(socket.ok());
  const Bytes huge(70000, 0);
  EXPECT_FALSE((*socket)->send_to({world.host(b).address(), 6784}, huge));
  // No route: the underlay has none to 10.99.0.1.
  EXPECT_FALSE((*socket)->send_to({Ipv4::from_octets(10, 99, 0, 1), 6784}, Bytes(10, 0)));
}

TEST(SimUdp, DatagramsWithNoReceiverAreDropped) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  auto sa = world.host(a).udp(7000);
  auto sb = world.host(b).udp(7000);
  ASSERT_TRUE(sa.ok() && sb.ok());
  EXPECT_TRUE((*sa)->send_to({world.host(b).address(), 7000}, Bytes(10, 1)));
  world.run_for(milliseconds(10));
  int count = 0;
  (*sb)->on_receive([&](const Endpoint&, ByteView) { ++count; });
  EXPECT_TRUE((*sa)->send_to({world.host(b).address(), 7000}, Bytes(10, 2)));
  world.run_for(milliseconds(10));
  EXPECT_EQ(count, 1);
}

}  // namespace
}  // namespace loom::sim
