// The two sim::World hooks the data plane tests need: a per-host UDP port
// block (a firewall rule) and moving a pod to another host.
#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using namespace std::chrono_literals;

TEST(WorldHooks, BlockedUdpPortDropsArrivalsUntilUnblocked) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  world.finalize_routes();
  auto from = world.host(a).udp(0);
  auto to = world.host(b).udp(6784);
  auto other = world.host(b).udp(6783);
  ASSERT_TRUE(from.ok() && to.ok() && other.ok());
  int received = 0;
  int other_received = 0;
  (*to)->on_receive([&](const Endpoint&, ByteView) { ++received; });
  (*other)->on_receive([&](const Endpoint&, ByteView) { ++other_received; });
  const Bytes payload(100, 7);
  auto send = [&] {
    EXPECT_TRUE((*from)->send_to(Endpoint{world.host(b).address(), 6784}, payload));
    EXPECT_TRUE((*from)->send_to(Endpoint{world.host(b).address(), 6783}, payload));
    world.run_for(10ms);
  };
  send();
  EXPECT_EQ(received, 1);
  world.set_udp_port_blocked(b, 6784, true);
  send();
  EXPECT_EQ(received, 1);
  EXPECT_EQ(other_received, 2);
  world.set_udp_port_blocked(b, 6784, false);
  send();
  EXPECT_EQ(received, 2);
}

TEST(WorldHooks, MovedPodSendsThroughItsNewHost) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  const size_t pod = world.add_pod(a, Ipv4::from_octets(10, 32, 0, 1), 24);
  int at_a = 0;
  int at_b = 0;
  world.host(a).bridge().on_receive([&](ByteView) { ++at_a; });
  world.host(b).bridge().on_receive([&](ByteView) { ++at_b; });
  world.ping(pod, Ipv4::from_octets(10, 32, 0, 2), 1);  // an ARP request, unanswered
  world.run_for(100ms);
  EXPECT_GT(at_a, 0);
  EXPECT_EQ(at_b, 0);
  const int before = at_a;
  world.move_pod(pod, b);
  world.run_for(1500ms);  // the pod's ARP retries its request (ns-3: after 1 s)
  EXPECT_EQ(at_a, before);
  EXPECT_GT(at_b, 0);
  EXPECT_THROW(world.move_pod(pod, 7), std::out_of_range);
}

}  // namespace
}  // namespace loom::sim
