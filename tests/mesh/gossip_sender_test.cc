#include "model/mesh/gossip_sender.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/mesh/gossip_test_data.h"

namespace loom::mesh {
namespace {

using testing::strings;
using testing::text;

struct Sent {
  GossipMessage::Kind kind;
  PeerName source;
  std::string payload;
  friend bool operator==(const Sent&, const Sent&) = default;
};

constexpr PeerName kUs{1};

class GossipSenderTest : public ::testing::Test {
 protected:
  GossipSender sender{"topology", kUs,
                      [this](GossipMessage m) {
                        EXPECT_EQ(m.channel, "topology");
                        sent.push_back({m.kind, m.source, text(m.payload)});
                        busy = busy_after_each_message;
                      },
                      [this] { return busy; }};
  std::vector<Sent> sent;
  bool busy = false;
  bool busy_after_each_message = false;
};

TEST_F(GossipSenderTest, SendsAtOnceWhenTheConnectionIsIdle) {
  sender.send(strings({"a", "b"}));
  EXPECT_EQ(sent, (std::vector<Sent>{{GossipMessage::Kind::gossip, kUs, "a"},
                                     {GossipMessage::Kind::gossip, kUs, "b"}}));
  EXPECT_TRUE(sender.empty());
  EXPECT_EQ(sender.items_sent(), 1u);
}

TEST_F(GossipSenderTest, MergesManyUpdatesWhileBusyIntoOneItem) {
  busy = true;
  for (int i = 0; i < 100; ++i) sender.send(strings({"peer" + std::to_string(i % 10)}));
  EXPECT_TRUE(sent.empty());
  EXPECT_FALSE(sender.empty());
  sender.ready();  // still busy: nothing
  EXPECT_TRUE(sent.empty());
  busy = false;
  sender.ready();
  EXPECT_EQ(sender.items_sent(), 1u);
  EXPECT_EQ(sent.size(), 10u);  // one merged item: ten distinct strings
  EXPECT_TRUE(sender.empty());
}

TEST_F(GossipSenderTest, SendsGossipBeforeBroadcastsAndOneItemPerBroadcastSource) {
  busy = true;
  sender.broadcast(PeerName(3), strings({"b3"}));
  sender.broadcast(PeerName(2), strings({"b2"}));
  sender.broadcast(PeerName(3), strings({"b3'"}));
  sender.send(strings({"g"}));
  busy = false;
  busy_after_each_message = true;  // one message per ready()
  sender.ready();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], (Sent{GossipMessage::Kind::gossip, kUs, "g"}));
  // Gossip queued now still goes before the broadcasts waiting.
  sender.send(strings({"g2"}));
  busy = false;
  sender.ready();
  busy = false;
  sender.ready();
  busy = false;
  sender.ready();
  busy_after_each_message = false;
  busy = false;
  sender.ready();
  EXPECT_EQ(sent, (std::vector<Sent>{
                      {GossipMessage::Kind::gossip, kUs, "g"},
                      {GossipMessage::Kind::gossip, kUs, "g2"},
                      {GossipMessage::Kind::broadcast, PeerName(2), "b2"},
                      {GossipMessage::Kind::broadcast, PeerName(3), "b3"},
                      {GossipMessage::Kind::broadcast, PeerName(3), "b3'"},
                  }));
  EXPECT_EQ(sender.items_sent(), 4u);
}

TEST(GossipSenders, MakesOneSenderPerChannel) {
  std::vector<std::string> channels;
  GossipSenders senders(
      kUs, [&](GossipMessage m) { channels.push_back(m.channel); }, [] { return false; });
  GossipSender& a = senders.sender("topology");
  EXPECT_EQ(&a, &senders.sender("topology"));
  EXPECT_NE(&a, &senders.sender("IPallocation"));
  senders.sender("IPallocation").send(strings({"x"}));
  a.send(strings({"y"}));
  EXPECT_EQ(channels, (std::vector<std::string>{"IPallocation", "topology"}));
}

}  // namespace
}  // namespace loom::mesh
