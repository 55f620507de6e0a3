// UDP between two LinuxHosts on 127.0.0.1 and 127.0.0.2, one loop.
#include <string>

#include "real-backend/linux_host.h"
#include "tests/live/live_fixture.h"

namespace loom::live {
namespace {

using namespace std::chrono_literals;
using testing::kAddrA;
using testing::kAddrB;
using testing::kPatience;
using testing::make_host;
using testing::make_loop;

struct Received {
  Endpoint from;
  std::string payload;
};

TEST(LinuxHostUdp, DatagramCarriesPayloadAndSourceBothWays) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto b = make_host(*loop, "b", kAddrB);
  auto sa = a->udp(0);
  auto sb = b->udp(0);
  ASSERT_TRUE(sa.ok() && sb.ok());
  ASSERT_NE((*sa)->port(), 0);
  ASSERT_NE((*sb)->port(), 0);

  std::vector<Received> at_a, at_b;
  (*sa)->on_receive([&](const Endpoint& from, ByteView p) {
    at_a.push_back({from, std::string(p.as_chars())});
  });
  (*sb)->on_receive([&](const Endpoint& from, ByteView p) {
    at_b.push_back({from, std::string(p.as_chars())});
    // Reply from inside the receiver: the Host may be called from anywhere.
    EXPECT_TRUE((*sb)->send_to(from, ByteView(std::string_view("pong"))));
  });

  const std::string ping("ping\0with nul", 13);
  ASSERT_TRUE((*sa)->send_to(Endpoint{kAddrB, (*sb)->port()}, ByteView(std::string_view(ping))));
  ASSERT_TRUE(loop->run_until([&] { return !at_a.empty(); }, kPatience));

  ASSERT_EQ(at_b.size(), 1u);
  EXPECT_EQ(at_b[0].payload, ping);
  EXPECT_EQ(at_b[0].from, (Endpoint{kAddrA, (*sa)->port()}));
  EXPECT_EQ(at_a[0].payload, "pong");
  EXPECT_EQ(at_a[0].from, (Endpoint{kAddrB, (*sb)->port()}));
}

TEST(LinuxHostUdp, SamePortGivesTheSameSocketAndPortZeroANewOne) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto first = a->udp(0);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const uint16_t port = (*first)->port();
  auto again = a->udp(port);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*first, *again);

  auto e1 = a->udp(0);
  auto e2 = a->udp(0);
  ASSERT_TRUE(e1.ok() && e2.ok());
  EXPECT_NE(*e1, *e2);
  EXPECT_NE((*e1)->port(), (*e2)->port());
  auto by_port = a->udp((*e1)->port());
  ASSERT_TRUE(by_port.ok());
  EXPECT_EQ(*by_port, *e1);
}

TEST(LinuxHostUdp, TwoHostsMayBindTheSamePortOnTheirOwnAddresses) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto b = make_host(*loop, "b", kAddrB);
  auto on_a = a->udp(0);
  ASSERT_TRUE(on_a.ok());
  auto on_b = b->udp((*on_a)->port());
  EXPECT_TRUE(on_b.ok()) << on_b.error().message;
}

TEST(LinuxHostUdp, PortInUseIsAnErrorNamingTheEndpoint) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto a_again = make_host(*loop, "a-again", kAddrA);
  auto taken = a->udp(0);
  ASSERT_TRUE(taken.ok());
  auto clash = a_again->udp((*taken)->port());
  ASSERT_FALSE(clash.ok());
  const std::string endpoint = Endpoint{kAddrA, (*taken)->port()}.to_string();
  EXPECT_NE(clash.error().message.find(endpoint), std::string::npos) << clash.error().message;
  EXPECT_NE(clash.error().message.find("in use"), std::string::npos) << clash.error().message;
}

TEST(LinuxHostUdp, OversizedDatagramIsRefusedAndCounted) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto s = a->udp(0);
  ASSERT_TRUE(s.ok());
  Bytes huge(70000, 1);
  EXPECT_FALSE((*s)->send_to(Endpoint{kAddrB, 9}, huge));
  EXPECT_EQ(a->metrics().value("loom_host_dropped_total", {{"reason", "udp_send_too_large"}}), 1);
}

TEST(LinuxHostUdp, DatagramWithNoReceiverIsCountedAsDropped) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto b = make_host(*loop, "b", kAddrB);
  auto sa = a->udp(0);
  auto sb = b->udp(0);
  ASSERT_TRUE(sa.ok() && sb.ok());
  ASSERT_TRUE((*sa)->send_to(Endpoint{kAddrB, (*sb)->port()}, Bytes{1, 2, 3}));
  auto dropped = [&] {
    return b->metrics().value("loom_host_dropped_total", {{"reason", "udp_no_receiver"}});
  };
  EXPECT_TRUE(loop->run_until([&] { return dropped() == 1; }, kPatience));
}

TEST(LinuxHostUdp, ManyDatagramsAllArriveOnLoopback) {
  auto loop = make_loop();
  auto a = make_host(*loop, "a", kAddrA);
  auto b = make_host(*loop, "b", kAddrB);
  auto sa = a->udp(0);
  auto sb = b->udp(0);
  ASSERT_TRUE(sa.ok() && sb.ok());
  int received = 0;
  (*sb)->on_receive([&](const Endpoint&, ByteView) { ++received; });
  // Few enough to fit in the receive buffer: loopback does not lose them.
  constexpr int kCount = 200;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE((*sa)->send_to(Endpoint{kAddrB, (*sb)->port()}, Bytes(100, uint8_t(i))));
  }
  EXPECT_TRUE(loop->run_until([&] { return received == kCount; }, kPatience));
}

}  // namespace
}  // namespace loom::live
