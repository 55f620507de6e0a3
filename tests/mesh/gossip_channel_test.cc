// GossipChannel against a fake router: what goes where.
#include "model/mesh/gossip_channel.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mesh/gossip_test_data.h"

namespace loom::mesh {
namespace {

using testing::strings;
using testing::StringSet;
using testing::text;

constexpr PeerName kUs{1};

// Routes and connections of a fake mesh: we (::1) have neighbours ::2, ::3, ::4.
class FakeRouter final : public GossipRouter {
 public:
  FakeRouter() {
    for (uint64_t n : {2, 3, 4}) {
      PeerName p(n);
      senders.emplace(p, std::make_unique<GossipSenders>(
                             kUs, [this, p](GossipMessage m) { out[p].push_back(std::move(m)); },
                             [] { return false; }));
    }
  }
  PeerName ourself() const override { return kUs; }
  std::optional<PeerName> unicast_next_hop(PeerName dst) override {
    if (dst == PeerName(9)) return PeerName(3);  // ::9 is behind ::3
    if (senders.count(dst) != 0) return dst;
    return std::nullopt;
  }
  std::vector<PeerName> broadcast_next_hops(PeerName source) override {
    if (source == kUs) return {PeerName(2), PeerName(3), PeerName(4)};
    return {PeerName(4)};
  }
  std::vector<PeerName> random_neighbours(PeerName except) override {
    std::vector<PeerName> picked;
    for (auto& [p, s] : senders)
      if (p != except) picked.push_back(p);
    return picked;
  }
  GossipSender* sender_for(PeerName neighbour, std::string_view channel) override {
    auto it = senders.find(neighbour);
    return it == senders.end() ? nullptr : &it->second->sender(channel);
  }
  Result<void> send_unicast(PeerName neighbour, const GossipMessage& msg) override {
    out[neighbour].push_back(msg);
    return {};
  }

  std::map<PeerName, std::unique_ptr<GossipSenders>> senders;
  std::map<PeerName, std::vector<GossipMessage>> out;
};

// A gossiper whose state is a set of strings.
class SetGossiper final : public Gossiper {
 public:
  Result<void> on_gossip_unicast(PeerName src, ByteView msg) override {
    unicasts.push_back(src.to_string() + " " + std::string(msg.as_chars()));
    return {};
  }
  Result<std::unique_ptr<GossipData>> on_gossip_broadcast(PeerName, ByteView update) override {
    learn(update);
    return std::unique_ptr<GossipData>(
        std::make_unique<StringSet>(std::set<std::string>{std::string(update.as_chars())}));
  }
  std::unique_ptr<GossipData> gossip() override { return std::make_unique<StringSet>(state); }
  Result<std::unique_ptr<GossipData>> on_gossip(ByteView msg) override {
    if (msg.as_chars() == "garbage") return make_error("cannot decode");
    if (!learn(msg)) return std::unique_ptr<GossipData>();
    return std::unique_ptr<GossipData>(
        std::make_unique<StringSet>(std::set<std::string>{std::string(msg.as_chars())}));
  }
  bool learn(ByteView b) { return state.insert(std::string(b.as_chars())).second; }

  std::set<std::string> state;
  std::vector<std::string> unicasts;
};

GossipMessage message(GossipMessage::Kind kind, PeerName source, std::string payload,
                      PeerName destination = PeerName{}) {
  return GossipMessage{kind, "dns", source, destination, Bytes(payload.begin(), payload.end())};
}

class GossipChannelTest : public ::testing::Test {
 protected:
  FakeRouter router;
  SetGossiper gossiper;
  GossipChannel channel{"dns", gossiper, router};
};

TEST_F(GossipChannelTest, RelaysNewGossipToNeighboursExceptItsSenderAndStopsWhenNothingIsNew) {
  ASSERT_TRUE(channel.deliver(message(GossipMessage::Kind::gossip, PeerName(2), "x")).ok());
  EXPECT_EQ(router.out.count(PeerName(2)), 0u);
  ASSERT_EQ(router.out[PeerName(3)].size(), 1u);
  EXPECT_EQ(router.out[PeerName(3)][0].source, kUs);  // gossip is re-sent as ours
  EXPECT_EQ(text(router.out[PeerName(4)][0].payload), "x");
  router.out.clear();
  ASSERT_TRUE(channel.deliver(message(GossipMessage::Kind::gossip, PeerName(3), "x")).ok());
  EXPECT_TRUE(router.out.empty());
  EXPECT_FALSE(channel.deliver(message(GossipMessage::Kind::gossip, PeerName(3), "garbage")).ok());
}

TEST_F(GossipChannelTest, RelaysBroadcastsAlongTheSourcesTree) {
  ASSERT_TRUE(channel.deliver(message(GossipMessage::Kind::broadcast, PeerName(2), "b")).ok());
  ASSERT_EQ(router.out.size(), 1u);
  const GossipMessage& m = router.out[PeerName(4)].at(0);
  EXPECT_EQ(m.kind, GossipMessage::Kind::broadcast);
  EXPECT_EQ(m.source, PeerName(2));  // a broadcast keeps its origin
  router.out.clear();
  channel.gossip_broadcast(strings({"mine"}));
  EXPECT_EQ(router.out.size(), 3u);
}

TEST_F(GossipChannelTest, DeliversUnicastsForUsAndForwardsOthersUnchanged) {
  ASSERT_TRUE(channel.deliver(message(GossipMessage::Kind::unicast, PeerName(2), "hi", kUs)).ok());
  EXPECT_EQ(gossiper.unicasts, (std::vector<std::string>{"00:00:00:00:00:02 hi"}));
  auto relayed = message(GossipMessage::Kind::unicast, PeerName(2), "to nine", PeerName(9));
  ASSERT_TRUE(channel.deliver(relayed).ok());
  ASSERT_EQ(router.out[PeerName(3)].size(), 1u);
  EXPECT_EQ(router.out[PeerName(3)][0].source, PeerName(2));
  EXPECT_EQ(router.out[PeerName(3)][0].destination, PeerName(9));
  // Our own unicast without a route fails.
  EXPECT_FALSE(channel.gossip_unicast(PeerName(7), ByteView(std::string_view("x"))).ok());
  EXPECT_TRUE(channel.gossip_unicast(PeerName(4), ByteView(std::string_view("x"))).ok());
  EXPECT_EQ(router.out[PeerName(4)].at(0).source, kUs);
}

TEST_F(GossipChannelTest, SendsFullStatePeriodicallyAndDownNewConnections) {
  gossiper.state = {"a", "b"};
  channel.send_all_gossip();
  EXPECT_EQ(router.out.size(), 3u);
  router.out.clear();
  channel.send_all_gossip_down(PeerName(3));
  ASSERT_EQ(router.out.size(), 1u);
  EXPECT_EQ(router.out[PeerName(3)].size(), 2u);
  channel.gossip_neighbour_subset(strings({"c"}));
  EXPECT_EQ(router.out[PeerName(2)].size(), 1u);
}

}  // namespace
}  // namespace loom::mesh
