// ConnectionMaker on an Ns3Host: back-off observed on ns-3's virtual clock,
// discovery, the connection limit, connect/forget. The dialer is a fake that
// records when it was asked to dial and reports outcomes through Host timers,
// as the connection layer will.
#include "model/mesh/connection_maker.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/world.h"

namespace loom::mesh {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

Endpoint ep(const char* text) { return *Endpoint::parse(text); }
PeerName peer(uint64_t n) { return PeerName(n); }

struct Dial {
  Time at;
  Endpoint address;
  bool accept_new_peer;
};

class ConnectionMakerTest : public ::testing::Test {
 protected:
  // What the fake network does with a dial; the default refuses it at once.
  std::function<void(const Endpoint&)> on_dial = [this](const Endpoint& a) { refuse(a); };

  void make(MeshConfig config = {}) {
    config_ = config;
    cm = std::make_unique<ConnectionMaker>(host, kUs, config,
                                           ConnectionMaker::Callbacks{
                                               [this](const Endpoint& a, bool accept_new_peer) {
                                                 dials.push_back({host.now(), a, accept_new_peer});
                                                 on_dial(a);
                                               },
                                               [this] { return known; },
                                               [this] { return known_version(); },
                                               {},  // discovery reads `known`
                                           });
  }

  void refuse(const Endpoint& a, Time after = Time::zero()) {
    host.after(after, [this, a] { cm->connect_failed(a, ConnectionError::other("refused")); });
  }
  // The dial succeeds now and the connection ends `lifetime` later.
  void connect_for(const Endpoint& a, PeerName p, Time lifetime,
                   ConnectionError end = ConnectionError::other("closed")) {
    host.after(Time::zero(), [this, a, p, lifetime, end] {
      cm->connection_created({a, p, true});
      host.after(lifetime, [this, a, p, end] { cm->connection_terminated({a, p, true}, end); });
    });
  }

  std::vector<Dial> dials_to(const Endpoint& a) const {
    std::vector<Dial> out;
    for (const Dial& d : dials)
      if (d.address == a) out.push_back(d);
    return out;
  }

  static constexpr PeerName kUs = PeerName(1);
  sim::World world;
  Host& host = world.host(world.add_host("h"));
  MeshConfig config_;
  std::unique_ptr<ConnectionMaker> cm;
  std::vector<Dial> dials;
  std::vector<KnownPeer> known;
  // Changes with known's content, as the mesh's discovery index version does.
  uint64_t known_version() const {
    uint64_t h = known.size();
    for (const KnownPeer& k : known) {
      h = h * 1000003 + k.name.value;
      for (const KnownConnection& c : k.connections) {
        h = h * 1000003 + c.remote.value;
        h = h * 1000003 + c.address.addr.value * 65536 + c.address.port;
        h = h * 1000003 + (c.outbound ? 1 : 0);
      }
    }
    return h;
  }
};

// The back-off interval after n failures, computed as the maker does.
Time interval_after(int failures, const MeshConfig& c) {
  Time i = c.initial_backoff;
  for (int k = 0; k < failures; ++k) {
    i = std::min(duration_cast<Time>(std::chrono::duration<double, std::nano>(
                     static_cast<double>(i.count()) * c.backoff_factor)),
                 c.max_backoff);
  }
  return i;
}

TEST_F(ConnectionMakerTest, BacksOffBetweenHalfAndOneAndAHalfIntervalsGrowingToSixMinutes) {
  make();
  EXPECT_TRUE(cm->initiate_connections({"10.9.9.9"}, false).empty());
  world.run_until(std::chrono::hours(3));
  auto d = dials_to(ep("10.9.9.9:6783"));
  ASSERT_GE(d.size(), 25u);
  EXPECT_EQ(d[0].at, Time::zero());
  EXPECT_TRUE(d[0].accept_new_peer);
  bool capped = false;
  for (size_t n = 1; n < d.size(); ++n) {
    Time interval = interval_after(static_cast<int>(n) - 1, config_);
    Time gap = d[n].at - d[n - 1].at;
    EXPECT_GE(gap, interval / 2) << "attempt " << n;
    EXPECT_LT(gap, interval / 2 + interval) << "attempt " << n;
    if (interval == minutes(6)) capped = true;
  }
  EXPECT_TRUE(capped);
  // The first few intervals: 2 s, 3 s, 4.5 s, 6.75 s.
  EXPECT_EQ(interval_after(1, config_), seconds(3));
  EXPECT_EQ(interval_after(3, config_), milliseconds(6750));
  EXPECT_EQ(interval_after(30, config_), minutes(6));
  // Never two attempts at once: one per failure.
  for (size_t n = 1; n < d.size(); ++n) EXPECT_GT(d[n].at, d[n - 1].at);
}

TEST_F(ConnectionMakerTest, ShowsFailedWithRetryTimeThenRetrying) {
  make();
  (void)cm->initiate_connections({"10.9.9.9"}, false);
  auto rows = cm->target_status();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].address, "10.9.9.9:6783");
  EXPECT_EQ(rows[0].state, "connecting");
  world.run_until(milliseconds(1));
  rows = cm->target_status();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "failed");
  EXPECT_NE(rows[0].info.find("refused, retry: "), std::string::npos) << rows[0].info;
  on_dial = [](const Endpoint&) {};  // the next attempt hangs
  world.run_until(seconds(4));
  rows = cm->target_status();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "retrying");
  EXPECT_EQ(rows[0].info, "refused");
}

TEST_F(ConnectionMakerTest, RetriesAtOnceWithResetIntervalAfterAConnectionThatLivedOverAMinute) {
  make();
  const Endpoint a = ep("10.9.9.9:6783");
  int n = 0;
  on_dial = [&](const Endpoint& x) {
    ++n;
    if (n <= 4) {
      refuse(x);  // back off to 2 × 1.5^4 = 10.125 s
    } else if (n == 5) {
      connect_for(x, peer(9), minutes(2));
    } else {
      refuse(x);
    }
  };
  (void)cm->initiate_connections({"10.9.9.9"}, false);
  world.run_until(minutes(10));
  auto d = dials_to(a);
  ASSERT_GE(d.size(), 7u);
  // Attempt 6 follows the end of the connection at once...
  EXPECT_EQ(d[5].at, d[4].at + minutes(2));
  // ...and its failure backs off from 2 s again.
  Time gap = d[6].at - d[5].at;
  EXPECT_GE(gap, seconds(1));
  EXPECT_LT(gap, seconds(3));
}

TEST_F(ConnectionMakerTest, BacksOffAfterAShortLivedConnection) {
  make();
  const Endpoint a = ep("10.9.9.9:6783");
  int n = 0;
  on_dial = [&](const Endpoint& x) {
    if (++n == 1) {
      connect_for(x, peer(9), seconds(10));
    } else {
      on_dial = [](const Endpoint&) {};
    }
  };
  (void)cm->initiate_connections({"10.9.9.9"}, false);
  EXPECT_EQ(cm->target_state(a), ConnectionMaker::TargetState::attempting);
  world.run_until(seconds(5));
  EXPECT_EQ(cm->target_state(a), ConnectionMaker::TargetState::connected);
  EXPECT_TRUE(cm->target_status().empty());
  world.run_until(seconds(30));
  auto d = dials_to(a);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_GE(d[1].at, seconds(10) + seconds(1));
  EXPECT_LT(d[1].at, seconds(10) + seconds(3));
}

TEST_F(ConnectionMakerTest, NeverRetriesAfterConnectingToItselfOrANameCollision) {
  make();
  on_dial = [&](const Endpoint& x) {
    if (x == ep("10.0.0.1:6783")) {
      connect_for(x, kUs, milliseconds(5),
                  {ConnectionError::Kind::connect_to_self, "cannot connect to ourself"});
    } else {
      host.after(Time::zero(), [this, x] {
        cm->connect_failed(x, {ConnectionError::Kind::name_collision, "name collision"});
      });
    }
  };
  (void)cm->initiate_connections({"10.0.0.1", "10.0.0.2"}, false);
  world.run_until(std::chrono::hours(1));
  EXPECT_EQ(dials.size(), 2u);
  auto rows = cm->target_status();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].info, "cannot connect to ourself, retry: never");
  EXPECT_EQ(rows[1].info, "name collision, retry: never");
  // `weave connect` again curtails it.
  (void)cm->initiate_connections({"10.0.0.2"}, false);
  EXPECT_EQ(dials.size(), 3u);
}

TEST_F(ConnectionMakerTest, DiscoversPeersOthersAreConnectedTo) {
  make();
  on_dial = [](const Endpoint&) {};
  // We have an inbound connection from ::2.
  cm->connection_created({ep("10.0.0.2:50000"), peer(2), false});
  known = {
      {kUs, {{peer(5), ep("10.0.0.5:6783"), true}}},  // our own entry: skipped
      {peer(2),
       {
           {peer(3), ep("10.0.0.3:6783"), true},    // outbound: its recorded address
           {peer(4), ep("10.0.0.4:41234"), false},  // inbound: the mesh port instead
           {kUs, ep("10.0.0.1:6783"), true},        // ourselves: skipped
       }},
      {peer(3), {{peer(2), ep("10.0.0.2:6783"), true}}},  // ::2: already connected
  };
  cm->refresh();
  ASSERT_EQ(dials.size(), 2u);
  EXPECT_EQ(dials[0].address, ep("10.0.0.3:6783"));
  EXPECT_EQ(dials[1].address, ep("10.0.0.4:6783"));
  // Discovered targets may only lead to peers already known.
  EXPECT_FALSE(dials[0].accept_new_peer);
  EXPECT_FALSE(dials[1].accept_new_peer);
}

TEST_F(ConnectionMakerTest, DeletesDiscoveredTargetsNoLongerValid) {
  make();
  known = {{peer(2), {{peer(3), ep("10.0.0.3:6783"), true}}}};
  cm->refresh();
  ASSERT_EQ(dials.size(), 1u);
  world.run_until(milliseconds(10));  // refused: waiting
  EXPECT_EQ(cm->target_state(ep("10.0.0.3:6783")), ConnectionMaker::TargetState::waiting);
  known.clear();
  cm->refresh();
  EXPECT_EQ(cm->target_state(ep("10.0.0.3:6783")), std::nullopt);
  world.run_until(minutes(5));
  EXPECT_EQ(dials.size(), 1u);
}

TEST_F(ConnectionMakerTest, DoesNotDiscoverWhenDiscoveryIsOff) {
  MeshConfig c;
  c.discovery = false;
  make(c);
  known = {{peer(2), {{peer(3), ep("10.0.0.3:6783"), true}}}};
  cm->refresh();
  EXPECT_TRUE(dials.empty());
}

TEST_F(ConnectionMakerTest, SuspendsADirectPeerWithoutPortThatConnectedToUs) {
  make();
  const Endpoint a = ep("10.0.0.7:6783");
  (void)cm->initiate_connections({"10.0.0.7", "10.0.0.8:6783"}, false);
  EXPECT_EQ(dials.size(), 2u);
  world.run_until(milliseconds(10));
  cm->connection_created({ep("10.0.0.7:41000"), peer(7), false});
  cm->connection_created({ep("10.0.0.8:41000"), peer(8), false});
  cm->refresh();
  // Given without a port: an inbound connection from its IP will do.
  EXPECT_EQ(cm->target_state(a), ConnectionMaker::TargetState::suspended);
  // Given with a port: still wanted.
  EXPECT_EQ(cm->target_state(ep("10.0.0.8:6783")), ConnectionMaker::TargetState::waiting);
  on_dial = [](const Endpoint&) {};
  world.run_until(minutes(1));
  EXPECT_EQ(dials_to(a).size(), 1u);
  cm->connection_terminated({ep("10.0.0.7:41000"), peer(7), false}, ConnectionError::other("eof"));
  EXPECT_EQ(dials_to(a).size(), 2u);  // its retry time has long passed
}

// Weave's rule (mesh: attemptConnection -> createConnection ->
// checkConnectionLimit -> connectionAborted): under the limit every due
// target is dialled; at the limit a due target is not dialled but fails with
// "Connection limit reached" and backs off like any failed attempt.
TEST_F(ConnectionMakerTest, AtTheConnectionLimitDueTargetsBackOffInsteadOfDialling) {
  MeshConfig c;
  c.conn_limit = 2;
  make(c);
  on_dial = [&](const Endpoint& x) {
    if (x != ep("10.0.0.1:6783")) return connect_for(x, peer(x.addr.value & 0xff), minutes(30));
    // ::1 is up for 5 s, then refuses every later dial.
    if (dials_to(x).size() == 1) return connect_for(x, peer(1), seconds(5));
    refuse(x);
  };
  (void)cm->initiate_connections({"10.0.0.1", "10.0.0.2"}, false);
  ASSERT_EQ(dials.size(), 2u);
  world.run_until(seconds(1));
  ASSERT_EQ(cm->connection_count(), 2u);

  // A third target while at the limit: no dial, a failure that backs off.
  (void)cm->initiate_connections({"10.0.0.3"}, false);
  EXPECT_EQ(dials.size(), 2u);
  EXPECT_EQ(cm->target_state(ep("10.0.0.3:6783")), ConnectionMaker::TargetState::waiting);
  const auto rows = cm->target_status();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "failed");
  EXPECT_NE(rows[0].info.find("Connection limit reached (2)"), std::string::npos) << rows[0].info;

  // ::1's connection ends at 5 s. ::3 is not dialled then, but at its next
  // retry, which the back-off put in [1 s + 1 s, 1 s + 3 s) (limit reached
  // each time before that), then [+1.5, +4.5) and so on: after 5 s in any case.
  world.run_until(seconds(5) + milliseconds(1));
  EXPECT_EQ(dials_to(ep("10.0.0.3:6783")).size(), 0u);
  world.run_until(minutes(1));
  const auto third = dials_to(ep("10.0.0.3:6783"));
  ASSERT_EQ(third.size(), 1u);
  EXPECT_GT(third[0].at, seconds(5));
  EXPECT_EQ(cm->connection_count(), 2u);
}

// Under the limit, every due target is dialled at once (the connection layer
// refuses the surplus when it adds them, as Weave's handleAddConnection does).
TEST_F(ConnectionMakerTest, UnderTheLimitEveryDueTargetIsDialled) {
  MeshConfig c;
  c.conn_limit = 2;
  make(c);
  on_dial = [](const Endpoint&) {};  // attempts stay in flight
  (void)cm->initiate_connections({"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"}, false);
  EXPECT_EQ(dials.size(), 4u);
}

TEST_F(ConnectionMakerTest, ConnectReplaceAndForget) {
  make();
  on_dial = [](const Endpoint&) {};
  auto errors = cm->initiate_connections({"10.0.0.1", "10.0.0.2:7000", "not-an-ip"}, false);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("not-an-ip"), std::string::npos);
  EXPECT_EQ(cm->direct_peers(), (std::vector<std::string>{"10.0.0.1", "10.0.0.2:7000"}));
  ASSERT_EQ(dials.size(), 2u);
  EXPECT_EQ(dials[0].address, ep("10.0.0.1:6783"));
  EXPECT_EQ(dials[1].address, ep("10.0.0.2:7000"));

  cm->connect_failed(ep("10.0.0.1:6783"), ConnectionError::other("refused"));
  cm->connect_failed(ep("10.0.0.2:7000"), ConnectionError::other("refused"));
  (void)cm->initiate_connections({"10.0.0.3"}, true);
  EXPECT_EQ(cm->direct_peers(), (std::vector<std::string>{"10.0.0.3"}));
  // The replaced peers are no longer targets.
  EXPECT_EQ(cm->target_state(ep("10.0.0.1:6783")), std::nullopt);
  EXPECT_EQ(cm->target_state(ep("10.0.0.2:7000")), std::nullopt);

  cm->connect_failed(ep("10.0.0.3:6783"), ConnectionError::other("refused"));
  cm->forget_connections({"10.0.0.3"});
  EXPECT_TRUE(cm->direct_peers().empty());
  cm->refresh();
  EXPECT_EQ(cm->target_state(ep("10.0.0.3:6783")), std::nullopt);
  world.run_until(minutes(10));
  EXPECT_EQ(dials.size(), 3u);
}

}  // namespace
}  // namespace loom::mesh
