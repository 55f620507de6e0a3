// StreamFidelity::message: the timing, queueing, loss, cut and crash of
// whole-message transfers (the Stream contract itself is tcp_test.cc's,
// run at both fidelities).
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

// a -- r -- b: 100 Mbps and 5 ms, then 10 Mbps and 10 ms.
struct Line {
  explicit Line(uint64_t seed = 1) : world(options(seed)) {
    ar = world.link(a, r, LinkSpec{"100Mbps", milliseconds(5), 0.0});
    rb = world.link(r, b, LinkSpec{"10Mbps", milliseconds(10), 0.0});
    world.finalize_routes();
    EXPECT_TRUE(world.host(b)
                    .listen(6783,
                            [this](StreamPtr s) {
                              server = s;
                              s->set_handlers(
                                  {[this](ByteView bytes) {
                                     received.insert(received.end(), bytes.begin(), bytes.end());
                                     arrivals.push_back(world.now());
                                   },
                                   [this](const Error& e) { server_closed = e.message; }});
                            })
                    .ok());
    world.host(a).connect({world.host(b).address(), 6783}, [this](Result<StreamPtr> result) {
      ASSERT_TRUE(result.ok()) << result.error().message;
      client = *result;
      client->set_handlers({{}, [this](const Error& e) { client_closed = e.message; }});
    });
    EXPECT_TRUE(world.run_until([&] { return client && server; }, seconds(5)));
  }
  static WorldOptions options(uint64_t seed) {
    WorldOptions o;
    o.seed = seed;
    o.streams = StreamFidelity::message;
    return o;
  }

  World world;
  size_t a = world.add_host("a");
  size_t r = world.add_host("r");
  size_t b = world.add_host("b");
  size_t ar = 0;
  size_t rb = 0;
  StreamPtr client;
  StreamPtr server;
  Bytes received;
  std::vector<Time> arrivals;
  std::optional<std::string> client_closed;
  std::optional<std::string> server_closed;
};

TEST(SimMessageStream, TheWorldKnowsThePathBetweenTwoHosts) {
  Line net;
  EXPECT_EQ(net.world.path(net.a, net.b), (std::vector<size_t>{net.ar, net.rb}));
  EXPECT_EQ(net.world.path(net.b, net.a), (std::vector<size_t>{net.rb, net.ar}));
  EXPECT_TRUE(net.world.path(net.a, net.a).empty());
}

TEST(SimMessageStream, AMegabyteArrivesAfterEachLinksSerialisationAndPropagation) {
  Line net;
  const Time start = net.world.now();
  net.client->write(Bytes(1'000'000, 7));
  ASSERT_TRUE(net.world.run_until([&] { return net.received.size() == 1'000'000; }, seconds(10)));
  // 685 segments of at most 1460 bytes, 40 bytes of headers each:
  // 1,027,400 bytes = 8,219,200 bits; 82.192 ms at 100 Mbps + 5 ms, then
  // 821.92 ms at 10 Mbps + 10 ms.
  ASSERT_EQ(net.arrivals.size(), 1u);  // one transfer, one delivery
  EXPECT_EQ(net.arrivals[0] - start,
            nanoseconds(82'192'000 + 5'000'000 + 821'920'000 + 10'000'000));
}

TEST(SimMessageStream, ASecondMessageQueuesBehindTheFirstAtTheSlowLink) {
  Line net;
  const Time start = net.world.now();
  net.client->write(Bytes(1'000'000, 1));
  net.client->write(Bytes(1'000'000, 2));
  ASSERT_TRUE(net.world.run_until([&] { return net.received.size() == 2'000'000; }, seconds(10)));
  ASSERT_EQ(net.arrivals.size(), 2u);
  // The second reaches r while the 10 Mbps link still sends the first: it
  // waits for it, then takes its own 821.92 ms.
  EXPECT_EQ(net.arrivals[0] - start, nanoseconds(919'112'000));
  EXPECT_EQ(net.arrivals[1] - start, nanoseconds(919'112'000 + 821'920'000));
  EXPECT_EQ(net.received[0], 1);
  EXPECT_EQ(net.received[1'999'999], 2);
}

// TCP's send buffer holds bytes until they are acknowledged, so a writer
// feels a slow link anywhere on the path: a megabyte leaves a's own 100 Mbps
// link in 82 ms, but stays pending while the 10 Mbps link beyond delivers it
// (arrival at 919 ms, its ACK back 15 ms later), and on_drained comes only
// when all but 128 KiB of it would be acknowledged, about 811 ms in.
TEST(SimMessageStream, AWriterIsHeldBackByASlowLinkBeyondTheFirst) {
  Line net;
  std::optional<Time> drained;
  net.client->set_handlers({{}, {}, [&] { drained = net.world.now(); }});
  const Time start = net.world.now();
  net.client->write(Bytes(1'000'000, 3));
  EXPECT_GT(net.client->pending(), 800'000u);
  net.world.run_for(milliseconds(200));  // long past the first link
  EXPECT_GT(net.client->pending(), 500'000u);
  EXPECT_FALSE(drained.has_value());
  ASSERT_TRUE(net.world.run_until([&] { return drained.has_value(); }, seconds(5)));
  EXPECT_EQ(net.client->pending(), 0u);
  EXPECT_GT(*drained - start, milliseconds(780));
  EXPECT_LT(*drained - start, milliseconds(840));
  EXPECT_TRUE(net.received.empty());  // drained before it all arrived, as TCP's buffer
  ASSERT_TRUE(net.world.run_until([&] { return net.received.size() == 1'000'000; }, seconds(5)));
}

// 10 numbered messages over a link that loses half of them: all arrive, in
// order, later than they would have without loss. The time, for the next test.
Time send_numbered_over_loss(uint64_t seed, Bytes& received) {
  Line net(seed);
  net.world.set_link_loss(net.ar, 0.5);
  for (uint8_t i = 0; i < 10; ++i) net.client->write(Bytes(100, i));
  EXPECT_TRUE(net.world.run_until([&] { return net.received.size() == 1000; }, seconds(300)));
  EXPECT_FALSE(net.client_closed.has_value());
  received = net.received;
  return net.arrivals.empty() ? Time::zero() : net.arrivals.back();
}

TEST(SimMessageStream, OverAHalfLossyLinkEverythingArrivesInOrderLater) {
  Bytes received;
  const Time done = send_numbered_over_loss(1, received);
  ASSERT_EQ(received.size(), 1000u);
  for (size_t i = 0; i < received.size(); ++i) ASSERT_EQ(received[i], i / 100) << i;
  EXPECT_GE(done, seconds(1));  // at least one retransmission timeout
  Bytes again;
  EXPECT_EQ(send_numbered_over_loss(1, again), done);  // drawn from the seed
}

TEST(SimMessageStream, ADownLinkHoldsDataUntilItComesUp) {
  Line net;
  net.world.set_link_up(net.rb, false);
  net.client->write(Bytes(10, 3));
  net.world.run_for(seconds(10));
  EXPECT_TRUE(net.received.empty());
  net.world.set_link_up(net.rb, true);
  net.world.run_for(seconds(20));  // the next retry, at most 16 s on
  EXPECT_EQ(net.received, Bytes(10, 3));
  EXPECT_FALSE(net.client_closed.has_value());
  EXPECT_FALSE(net.server_closed.has_value());
}

TEST(SimMessageStream, ACutOutlastingTheRetriesBreaksTheWritersStream) {
  Line net;
  net.world.set_link_up(net.rb, false);
  net.client->write(Bytes(10, 3));
  net.world.run_for(seconds(100));
  EXPECT_FALSE(net.client_closed.has_value());  // still retrying
  net.world.run_for(seconds(60));
  ASSERT_TRUE(net.client_closed.has_value());
  EXPECT_NE(net.client_closed->find("timed out"), std::string::npos) << *net.client_closed;
  EXPECT_FALSE(net.server_closed.has_value());  // an idle receiver notices nothing
}

TEST(SimMessageStream, AConnectAcrossACutFailsAfterTheSynRetries) {
  Line net;
  net.world.set_link_up(net.rb, false);
  std::optional<std::string> error;
  net.world.host(net.a).connect({net.world.host(net.b).address(), 6783}, [&](Result<StreamPtr> r) {
    ASSERT_FALSE(r.ok());
    error = r.error().message;
  });
  net.world.run_for(seconds(185));
  EXPECT_FALSE(error.has_value());
  net.world.run_for(seconds(10));  // 3 + 6 + ... + 96 = 189 s
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("timed out"), std::string::npos) << *error;
}

TEST(SimMessageStream, ACrashResetsThePeerAndTheStoppedHostRefuses) {
  Line net;
  const Ipv4 b_address = net.world.host(net.b).address();
  net.world.stop_host(net.b);
  net.world.run_for(milliseconds(14));
  EXPECT_FALSE(net.client_closed.has_value());  // 15 ms of propagation away
  net.world.run_for(milliseconds(2));
  ASSERT_TRUE(net.client_closed.has_value());
  EXPECT_NE(net.client_closed->find("reset by peer"), std::string::npos) << *net.client_closed;
  std::optional<std::string> error;
  net.world.host(net.a).connect({b_address, 6783}, [&](Result<StreamPtr> r) {
    ASSERT_FALSE(r.ok());
    error = r.error().message;
  });
  net.world.run_for(milliseconds(100));
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->find("refused"), std::string::npos) << *error;
  // Started again, it listens on the same port and accepts.
  net.world.start_host(net.b);
  StreamPtr accepted;
  ASSERT_TRUE(
      net.world.host(net.b).listen(6783, [&](StreamPtr s) { accepted = std::move(s); }).ok());
  net.world.host(net.a).connect({net.world.host(net.b).address(), 6783}, [](Result<StreamPtr>) {});
  EXPECT_TRUE(
      net.world.run_until([&] { return accepted != nullptr; }, net.world.now() + seconds(1)));
}

}  // namespace
}  // namespace loom::sim
