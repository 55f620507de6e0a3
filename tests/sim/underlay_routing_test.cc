// Forwarding in a racks underlay (hosts under top-of-rack routers under a
// core): the core holds a route per link, racks and hosts one for the whole
// underlay besides their own links (sim/underlay_routing.h).
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/static_routes.h"
#include "sim/world.h"

namespace loom::sim {
namespace {

using std::chrono::milliseconds;

constexpr uint16_t kPort = 6784;

std::string name(const char* prefix, size_t n) {
  std::string out = prefix;
  out.append(std::to_string(n));
  return out;
}

// A core, three racks of two hosts. Every host answers each datagram with
// one of its own; arrivals are recorded by (receiving host, sender address).
struct Racks {
  World world;
  size_t core = 0;
  std::vector<size_t> tors;
  std::vector<std::vector<size_t>> racks;  // host indices per rack
  std::vector<size_t> uplinks;             // link core <-> tor, per rack
  std::vector<DatagramSocket*> sockets;    // by host index
  struct Arrival {
    size_t at;
    Ipv4 from;
    Time when;
  };
  std::vector<Arrival> arrivals;

  Racks() {
    core = world.add_host("core");
    for (size_t r = 0; r < 3; ++r) {
      tors.push_back(world.add_host(name("tor", r)));
      uplinks.push_back(world.link(core, tors.back()));
      racks.emplace_back();
      for (size_t i = 0; i < 2; ++i) {
        racks.back().push_back(world.add_host(name("h", 2 * r + i)));
        world.link(tors.back(), racks.back().back());
      }
    }
    for (size_t h = 0; h < world.host_count(); ++h) {
      auto socket = world.host(h).udp(kPort);
      EXPECT_TRUE(socket.ok());
      sockets.push_back(*socket);
      sockets.back()->on_receive([this, h](const Endpoint& from, ByteView payload) {
        arrivals.push_back({h, from.addr, world.now()});
        if (payload.size() == 100) sockets[h]->send_to(from, Bytes(50, 2));  // the answer
      });
    }
    world.finalize_routes();
  }

  // When host `at` first heard from `from`; nullopt if never.
  std::optional<Time> arrival(size_t at, Ipv4 from) const {
    for (const Arrival& a : arrivals) {
      if (a.at == at && a.from == from) return a.when;
    }
    return std::nullopt;
  }
};

// Each hop is 1 ms of delay plus well under a millisecond of serialisation.
void expect_hops(std::optional<Time> at, Time sent, int hops, const std::string& what) {
  ASSERT_TRUE(at.has_value()) << what << " never arrived";
  EXPECT_GE(*at - sent, milliseconds(hops)) << what;
  EXPECT_LT(*at - sent, milliseconds(hops + 1)) << what;
}

TEST(SimUnderlayRouting, HostsInDifferentRacksExchangeDatagramsAcrossTheCore) {
  Racks w;
  const size_t a = w.racks[0][0];
  const size_t b = w.racks[2][1];
  const Ipv4 address_a = w.world.host_address(a);
  const Ipv4 address_b = w.world.host_address(b);
  ASSERT_TRUE(w.sockets[a]->send_to({address_b, kPort}, Bytes(100, 1)));
  w.world.run_for(milliseconds(20));
  // a -> tor0 -> core -> tor2 -> b, and the answer back the same way.
  expect_hops(w.arrival(b, address_a), Time{}, 4, "a to b");
  expect_hops(w.arrival(a, address_b), *w.arrival(b, address_a), 4, "b's answer to a");
  EXPECT_EQ(w.arrivals.size(), 2u);
  EXPECT_EQ(w.world.underlay_packets(), 8u);
}

// A rack's router has a route for the whole underlay towards the core, but
// its own links' routes are more specific: a rack mate is two hops away.
TEST(SimUnderlayRouting, HostsInOneRackTalkThroughTheirRackRouterOnly) {
  Racks w;
  const size_t a = w.racks[1][0];
  const size_t b = w.racks[1][1];
  ASSERT_TRUE(w.sockets[a]->send_to({w.world.host_address(b), kPort}, Bytes(100, 1)));
  w.world.run_for(milliseconds(20));
  expect_hops(w.arrival(b, w.world.host_address(a)), Time{}, 2, "a to its rack mate");
  expect_hops(w.arrival(a, w.world.host_address(b)), *w.arrival(b, w.world.host_address(a)), 2,
              "the answer");
  EXPECT_EQ(w.world.underlay_packets(), 4u);
}

// Routers are reached on their addresses from other racks: the core's is
// on rack 0's uplink, so a datagram from rack 2 arrives on another link than
// the address's; rack 0's router is one hop further.
TEST(SimUnderlayRouting, RoutersAreReachedFromOtherRacks) {
  Racks w;
  const size_t a = w.racks[2][1];
  const Ipv4 core = w.world.host_address(w.core);
  const Ipv4 tor0 = w.world.host_address(w.tors[0]);
  EXPECT_EQ(core, Ipv4(link_network(w.uplinks[0]) + 1));
  ASSERT_TRUE(w.sockets[a]->send_to({core, kPort}, Bytes(100, 1)));
  ASSERT_TRUE(w.sockets[a]->send_to({tor0, kPort}, Bytes(100, 1)));
  w.world.run_for(milliseconds(20));
  const Ipv4 address_a = w.world.host_address(a);
  expect_hops(w.arrival(w.core, address_a), Time{}, 2, "a to the core");
  expect_hops(w.arrival(w.tors[0], address_a), Time{}, 3, "a to rack 0's router");
  expect_hops(w.arrival(a, core), *w.arrival(w.core, address_a), 2, "the core's answer");
  expect_hops(w.arrival(a, tor0), *w.arrival(w.tors[0], address_a), 3, "rack 0's answer");
}

// An unused underlay address goes up to the core (hosts and racks route
// the whole underlay that way) and dies there; an address outside the
// underlay has no route at all.
TEST(SimUnderlayRouting, AddressesWithoutARouteAreDropped) {
  Racks w;
  const size_t a = w.racks[0][0];
  ASSERT_TRUE(w.sockets[a]->send_to({Ipv4::from_octets(172, 16, 200, 1), kPort}, Bytes(100, 1)));
  w.world.run_for(milliseconds(50));
  EXPECT_EQ(w.world.underlay_packets(), 2u);  // a -> tor0 -> core, then nothing
  EXPECT_TRUE(w.arrivals.empty());

  EXPECT_FALSE(w.sockets[a]->send_to({Ipv4::from_octets(192, 168, 1, 1), kPort}, Bytes(100, 1)));
  EXPECT_FALSE(
      w.sockets[w.core]->send_to({Ipv4::from_octets(172, 16, 200, 1), kPort}, Bytes(100, 1)));
  w.world.run_for(milliseconds(50));
  EXPECT_EQ(w.world.underlay_packets(), 2u);
  EXPECT_TRUE(w.arrivals.empty());
}

}  // namespace
}  // namespace loom::sim
