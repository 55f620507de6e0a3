// SurrogateGossiper on an Ns3Host's clock: carries channels it cannot read.
#include "model/mesh/gossip_surrogate.h"

#include <chrono>
#include <string_view>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::mesh {
namespace {

using std::chrono::seconds;

ByteView view(std::string_view s) { return ByteView(s); }

TEST(GossipSurrogate, RelaysGossipUnlessSeenWithinTheGossipInterval) {
  sim::World world;
  Host& host = world.host(world.add_host("h"));
  SurrogateGossiper surrogate(host, seconds(30));

  auto first = surrogate.on_gossip(view("dns entries v1"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(*first);
  EXPECT_EQ((*first)->encode(), (std::vector<Bytes>{view("dns entries v1").to_bytes()}));

  world.run_until(seconds(20));
  auto again = surrogate.on_gossip(view("dns entries v1"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "a duplicate within 30 s is not relayed";
  auto other = surrogate.on_gossip(view("dns entries v2"));
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(*other) << "different bytes are relayed";

  world.run_until(seconds(31));
  auto later = surrogate.on_gossip(view("dns entries v1"));
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(*later) << "seen more than 30 s ago: relayed again";
}

TEST(GossipSurrogate, IgnoresUnicastsAndRelaysBroadcastsUnchanged) {
  sim::World world;
  Host& host = world.host(world.add_host("h"));
  SurrogateGossiper surrogate(host, seconds(30));
  EXPECT_TRUE(surrogate.on_gossip_unicast(PeerName(2), view("for us")).ok());
  EXPECT_EQ(surrogate.gossip(), nullptr);
  for (int i = 0; i < 2; ++i) {  // broadcasts are never deduplicated
    auto b = surrogate.on_gossip_broadcast(PeerName(2), view("ring"));
    ASSERT_TRUE(b.ok());
    ASSERT_TRUE(*b);
    EXPECT_EQ((*b)->encode(), (std::vector<Bytes>{view("ring").to_bytes()}));
  }
  // Merging concatenates the messages.
  SurrogateGossipData a({view("x").to_bytes()});
  SurrogateGossipData b({view("y").to_bytes()});
  EXPECT_EQ(a.merge(b)->encode(), (std::vector<Bytes>{view("x").to_bytes(), view("y").to_bytes()}));
}

TEST(GossipSurrogate, HashesWithFnv64a) {
  EXPECT_EQ(fnv64a(view("")), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv64a(view("a")), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv64a(view("foobar")), 0x85944171f73967e8ULL);
}

}  // namespace
}  // namespace loom::mesh
