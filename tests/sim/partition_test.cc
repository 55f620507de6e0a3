// World::set_partition: hosts in different groups exchange nothing (UDP,
// TCP segments, message-fidelity transfers) while the hub between them
// forwards for everyone else; healing lets stalled streams carry on.
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint16_t kUdpPort = 6784;
constexpr uint16_t kTcpPort = 6783;

// Hosts 0..3 on a star around hub 4; partition {0, 0, 1, 1} (hub in 0).
struct Star {
  explicit Star(StreamFidelity fidelity = StreamFidelity::tcp) : world(options(fidelity)) {
    for (const char* name : {"h0", "h1", "h2", "h3"}) world.add_host(name);
    hub = world.add_host("hub");
    for (size_t i = 0; i < 4; ++i) world.link(hub, i, LinkSpec{"100Mbps", milliseconds(1), 0.0});
    world.finalize_routes();
    for (size_t i = 0; i < 4; ++i) {
      (*world.host(i).udp(kUdpPort))->on_receive([this](const Endpoint&, ByteView) { ++received; });
    }
  }
  static WorldOptions options(StreamFidelity fidelity) {
    WorldOptions o;
    o.streams = fidelity;
    return o;
  }
  // How many of 10 datagrams from host a reach host b.
  int udp(size_t a, size_t b) {
    received = 0;
    DatagramSocket* tx = *world.host(a).udp(kUdpPort);
    for (int i = 0; i < 10; ++i) tx->send_to({world.host(b).address(), kUdpPort}, Bytes(64, 1));
    world.run_for(milliseconds(100));
    return received;
  }

  World world;
  size_t hub = 0;
  int received = 0;
};

TEST(SimPartition, UdpCrossesOnlyWithinAGroupUntilHealed) {
  Star star;
  EXPECT_EQ(star.udp(0, 2), 10);
  star.world.set_partition({0, 0, 1, 1, 0});
  EXPECT_EQ(star.udp(0, 1), 10);  // same group, through the hub
  EXPECT_EQ(star.udp(2, 3), 10);  // the other group, through the same hub
  EXPECT_EQ(star.udp(0, 2), 0);
  EXPECT_EQ(star.udp(3, 1), 0);
  star.world.set_partition({});
  EXPECT_EQ(star.udp(0, 2), 10);
  EXPECT_EQ(star.udp(3, 1), 10);
  // Every host in one group is no partition either.
  star.world.set_partition({7, 7, 7, 7, 7});
  EXPECT_EQ(star.udp(1, 2), 10);
}

TEST(SimPartition, NeedsOneGroupPerHost) {
  Star star;
  EXPECT_THROW(star.world.set_partition({0, 1}), std::invalid_argument);
  EXPECT_EQ(star.udp(0, 2), 10);  // unchanged
}

class SimPartitionStream : public ::testing::TestWithParam<StreamFidelity> {};

// A stream from 0 to 2 stalls across the partition and delivers once healed.
TEST_P(SimPartitionStream, StallsAcrossThePartitionAndDeliversOnceHealed) {
  Star star(GetParam());
  World& world = star.world;
  StreamPtr server;
  Bytes received;
  std::optional<std::string> closed;
  ASSERT_TRUE(world.host(2)
                  .listen(kTcpPort,
                          [&](StreamPtr s) {
                            server = s;
                            s->set_handlers({[&](ByteView bytes) {
                                               received.insert(received.end(), bytes.begin(),
                                                               bytes.end());
                                             },
                                             [&](const Error& e) { closed = e.message; }});
                          })
                  .ok());
  StreamPtr client;
  world.host(0).connect({world.host(2).address(), kTcpPort}, [&](Result<StreamPtr> r) {
    ASSERT_TRUE(r.ok()) << r.error().message;
    client = *r;
    client->set_handlers({{}, [&](const Error& e) { closed = e.message; }});
  });
  ASSERT_TRUE(world.run_until([&] { return client && server; }, seconds(5)));

  const uint64_t transfers = world.message_transfers();
  world.set_partition({0, 0, 1, 1, 0});
  client->write(Bytes(5000, 7));
  world.run_for(seconds(10));
  EXPECT_TRUE(received.empty());
  EXPECT_FALSE(closed.has_value());
  if (GetParam() == StreamFidelity::message) {
    EXPECT_GT(world.message_transfers(), transfers);  // sent, and sent again
  }
  world.set_partition({});
  ASSERT_TRUE(world.run_until([&] { return received.size() == 5000; }, world.now() + seconds(60)));
  EXPECT_FALSE(closed.has_value());
}

INSTANTIATE_TEST_SUITE_P(BothFidelities, SimPartitionStream,
                         ::testing::Values(StreamFidelity::tcp, StreamFidelity::message),
                         [](const auto& p) {
                           return p.param == StreamFidelity::tcp ? "tcp" : "message";
                         });

}  // namespace
}  // namespace loom::sim
