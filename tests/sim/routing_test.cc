// Static routes: a chain, links added late, a tree of hubs, unused addresses.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TEST(SimRouting, AReachesCThroughB) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  const size_t c = world.add_host("c");
  world.link(a, b);
  world.link(b, c);
  Host& ha = world.host(a);
  Host& hc = world.host(c);
  EXPECT_EQ(world.host(b).address().to_string(), "172.16.0.2");  // its first link
  EXPECT_EQ(hc.address().to_string(), "172.16.0.6");

  auto sa = ha.udp(6784);
  auto sc = hc.udp(6784);
  ASSERT_TRUE(sa.ok() && sc.ok());
  std::optional<Endpoint> from;
  Time at{};
  (*sc)->on_receive([&](const Endpoint& source, ByteView) {
    from = source;
    at = hc.now();
  });
  ha.after(milliseconds(10), [&] { (*sa)->send_to({hc.address(), 6784}, Bytes(100, 1)); });
  world.run_until(milliseconds(100));
  ASSERT_TRUE(from.has_value());
  EXPECT_EQ(*from, (Endpoint{ha.address(), 6784}));
  // Two hops of 1 ms, each serialising 130 bytes at 1 Gbit/s.
  EXPECT_EQ(at, milliseconds(10) + 2 * (milliseconds(1) + nanoseconds(1040)));

  bool connected = false;
  ASSERT_TRUE(hc.listen(6783, [](StreamPtr) {}).ok());
  ha.connect({hc.address(), 6783}, [&](Result<StreamPtr> result) {
    EXPECT_TRUE(result.ok());
    connected = result.ok();
  });
  EXPECT_TRUE(world.run_until([&] { return connected; }, seconds(5)));
}

TEST(SimRouting, LinksAddedAfterRunningAreRoutedToo) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  world.link(a, b);
  world.run_for(milliseconds(1));
  const size_t c = world.add_host("c");
  world.link(c, b);
  auto sa = world.host(a).udp(6784);
  auto sc = world.host(c).udp(6784);
  ASSERT_TRUE(sa.ok() && sc.ok());
  int received = 0;
  (*sa)->on_receive([&](const Endpoint&, ByteView) { ++received; });
  world.finalize_routes();
  EXPECT_TRUE((*sc)->send_to({world.host(a).address(), 6784}, Bytes(10, 1)));
  world.run_for(milliseconds(10));
  EXPECT_EQ(received, 1);
}

// Peers under rack hubs under a core: every peer reaches every other, in
// two hops within a rack and four across (each hop 1 ms), although peers and
// racks hold one route for the whole underlay rather than one per link.
TEST(SimRouting, TreeOfHubsRoutesEveryPairOverShortestPaths) {
  World world;
  const size_t core = world.add_host("core");
  std::vector<size_t> peers;
  std::vector<size_t> rack_of;
  for (size_t r = 0; r < 3; ++r) {
    const size_t hub = world.add_host("hub" + std::to_string(r));
    world.link(core, hub);
    for (size_t i = 0; i < 3; ++i) {
      peers.push_back(world.add_host("peer" + std::to_string(peers.size())));
      rack_of.push_back(r);
      world.link(hub, peers.back());
    }
  }
  std::vector<DatagramSocket*> sockets;
  for (size_t p : peers) {
    auto socket = world.host(p).udp(6784);
    ASSERT_TRUE(socket.ok());
    sockets.push_back(*socket);
  }
  std::vector<std::vector<Time>> arrived(peers.size(), std::vector<Time>(peers.size()));
  for (size_t j = 0; j < peers.size(); ++j) {
    sockets[j]->on_receive([&, j](const Endpoint& from, ByteView) {
      for (size_t i = 0; i < peers.size(); ++i) {
        if (world.host(peers[i]).address() == from.addr) arrived[i][j] = world.now();
      }
    });
  }
  world.finalize_routes();
  for (size_t i = 0; i < peers.size(); ++i) {
    for (size_t j = 0; j < peers.size(); ++j) {
      if (i != j) sockets[i]->send_to({world.host(peers[j]).address(), 6784}, Bytes(10, 1));
    }
  }
  world.run_for(milliseconds(100));
  for (size_t i = 0; i < peers.size(); ++i) {
    for (size_t j = 0; j < peers.size(); ++j) {
      if (i == j) continue;
      const Time hops = milliseconds(rack_of[i] == rack_of[j] ? 2 : 4);
      EXPECT_GE(arrived[i][j], hops) << i << " -> " << j;
      EXPECT_LT(arrived[i][j], hops + milliseconds(1)) << i << " -> " << j;
    }
  }
}

// In a chain a-b-c-d, b's routes all leave towards c and c's towards b: they
// keep per-link routes, or a datagram for an address no link has would
// bounce between them until its TTL ran out. It dies at once instead.
TEST(SimRouting, DatagramToAnUnusedUnderlayAddressDoesNotBounce) {
  World world;
  const size_t a = world.add_host("a");
  const size_t b = world.add_host("b");
  const size_t c = world.add_host("c");
  const size_t d = world.add_host("d");
  world.link(a, b);
  world.link(b, c);
  world.link(c, d);
  auto sa = world.host(a).udp(6784);
  auto sd = world.host(d).udp(6784);
  ASSERT_TRUE(sa.ok() && sd.ok());
  int received = 0;
  (*sd)->on_receive([&](const Endpoint&, ByteView) { ++received; });
  world.finalize_routes();
  EXPECT_TRUE((*sa)->send_to({world.host(d).address(), 6784}, Bytes(10, 1)));
  world.run_for(milliseconds(10));
  EXPECT_EQ(received, 1);
  const uint64_t before = world.events_executed();
  (*sa)->send_to({Ipv4::from_octets(172, 16, 200, 1), 6784}, Bytes(10, 1));
  world.run_for(milliseconds(200));
  // a forwards it to b, which has no route for it: a handful of events, not
  // the hundreds of 60-odd hops.
  EXPECT_LT(world.events_executed() - before, 20u);
}

}  // namespace
}  // namespace loom::sim
