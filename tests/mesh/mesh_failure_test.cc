// Mesh on sim::World: what is refused, and what the rest of the mesh does
// meanwhile; duplicate connections, the connection limit, gossip channels.
#include <chrono>
#include <map>

#include <gtest/gtest.h>

#include "tests/mesh/mesh_test_net.h"

namespace loom::mesh::testing {
namespace {

constexpr Time kFormed = 3s;  // formation takes ~1.12 s here (mesh_formation_test.cc)

// Peers 0..n-1 in a full mesh (each told all the others).
void connect_all(MeshNet& net, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> others;
    for (size_t j = 0; j < n; ++j) {
      if (j != i) others.push_back(net.ip(j));
    }
    net.mesh(i).connect(others);
  }
}

std::string target_info(Mesh& mesh) {
  std::string out;
  for (const ConnectionStatus& c : mesh.status().connections) out += c.state + ": " + c.info + "\n";
  return out;
}

TEST(MeshRefusal, WrongPasswordIsRefusedAndTheRestUnaffected) {
  MeshNet net(11);
  for (size_t i = 0; i < 3; ++i) net.add_peer({}, "secret");
  const size_t intruder = net.add_peer({}, "guess");
  net.start_all();
  connect_all(net, 3);
  net.mesh(intruder).connect({net.ip(0)});
  ASSERT_TRUE(net.run_until([&] { return net.converged({0, 1, 2}); }, kFormed));
  net.world().run_for(5s);
  EXPECT_TRUE(net.converged({0, 1, 2}));
  EXPECT_TRUE(net.mesh(intruder).connected_peers().empty());
  EXPECT_EQ(net.mesh(0).connected_peers().size(), 2u);
  EXPECT_EQ(net.mesh(0).peers().size(), 3u) << "the intruder never enters the topology";
  MeshStatus s = net.mesh(intruder).status();
  ASSERT_EQ(s.connections.size(), 1u);
  EXPECT_EQ(s.connections[0].state, "failed") << target_info(net.mesh(intruder));
  EXPECT_FALSE(s.connections[0].info.empty());
  EXPECT_TRUE(net.logged("connection shutting down due to error"));
}

TEST(MeshRefusal, VersionMismatchIsRefusedWithTheReason) {
  MeshNet net(12);
  for (size_t i = 0; i < 3; ++i) net.add_peer();
  MeshConfig v3;
  v3.protocol_min_version = 3;
  v3.protocol_max_version = 3;
  const size_t odd = net.add_peer(v3);
  net.start_all();
  connect_all(net, 3);
  net.mesh(odd).connect({net.ip(0)});
  ASSERT_TRUE(net.run_until([&] { return net.converged({0, 1, 2}); }, kFormed));
  net.world().run_for(5s);
  EXPECT_TRUE(net.converged({0, 1, 2}));
  EXPECT_TRUE(net.mesh(odd).connected_peers().empty());
  MeshStatus s = net.mesh(odd).status();
  ASSERT_EQ(s.connections.size(), 1u);
  EXPECT_EQ(s.connections[0].state, "failed");
  EXPECT_NE(s.connections[0].info.find("incompatible"), std::string::npos)
      << target_info(net.mesh(odd));
  EXPECT_TRUE(net.logged("incompatible"));
}

TEST(MeshRefusal, GarbageSpeakerOnTheMeshPortIsDisconnected) {
  MeshNet net(13);
  for (size_t i = 0; i < 3; ++i) net.add_peer();
  const size_t stranger = net.add_host("stranger");
  net.start_all();
  connect_all(net, 3);
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, kFormed));

  bool closed = false;
  StreamPtr stream;
  net.world().host(stranger).connect(
      Endpoint{net.host(0).address(), 6783}, [&](Result<StreamPtr> s) {
        ASSERT_TRUE(s.ok());
        stream = *s;
        Stream::Handlers h;
        h.on_data = [](ByteView) {};
        h.on_close = [&](const Error&) { closed = true; };
        h.on_drained = nullptr;
        stream->set_handlers(std::move(h));
        stream->write(ByteView(std::string_view("GET / HTTP/1.1\r\n\r\n")));
      });
  ASSERT_TRUE(net.run_until([&] { return closed; }, net.world().now() + 2s))
      << "the mesh should close a stream that does not speak weave";
  EXPECT_TRUE(net.logged("shutting down due to error"));
  EXPECT_TRUE(net.logged("not recognised")) << "Weave's 'remote protocol header not recognised'";
  EXPECT_TRUE(net.converged());
  EXPECT_EQ(net.mesh(0).connected_peers().size(), 2u);
  if (stream) stream->close();
}

TEST(MeshConnections, SimultaneousDialsEndWithOneConnection) {
  for (uint64_t seed : {21, 22, 23}) {
    MeshNet net(seed);
    net.add_peer();
    net.add_peer();
    net.start_all();
    net.mesh(0).connect({net.ip(1)});
    net.mesh(1).connect({net.ip(0)});
    ASSERT_TRUE(net.run_until([&] { return net.converged(); }, kFormed));
    net.world().run_for(40s);  // past retries and a periodic gossip
    ASSERT_EQ(net.mesh(0).connected_peers().size(), 1u);
    ASSERT_EQ(net.mesh(1).connected_peers().size(), 1u);
    const Connection* a = net.mesh(0).connection_to(peer_name(1));
    const Connection* b = net.mesh(1).connection_to(peer_name(0));
    EXPECT_EQ(a->uid(), b->uid()) << "both ends kept the same TCP connection";
    EXPECT_NE(a->outbound(), b->outbound());
    EXPECT_TRUE(net.converged());
  }
}

TEST(MeshConnections, ConnLimitIsRespected) {
  MeshConfig config;
  config.conn_limit = 2;
  MeshNet net(31);
  const size_t n = 6;
  for (size_t i = 0; i < n; ++i) net.add_peer(config);
  net.start_all();
  connect_all(net, n);
  size_t max_seen = 0;
  net.run_until(
      [&] {
        for (size_t i = 0; i < n; ++i) {
          max_seen = std::max(max_seen, net.mesh(i).connected_peers().size());
        }
        return false;
      },
      20s, 5ms);
  EXPECT_LE(max_seen, 2u);
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) total += net.mesh(i).connected_peers().size();
  EXPECT_GT(total, 0u);
  EXPECT_TRUE(net.logged("Connection limit reached (2)"));
}

// A channel whose data is a set of strings.
class StringSet final : public GossipData {
 public:
  explicit StringSet(std::vector<std::string> items) : items_(std::move(items)) {}
  std::vector<Bytes> encode() const override {
    std::vector<Bytes> out;
    for (const auto& s : items_) out.push_back(ByteView(std::string_view(s)).to_bytes());
    return out;
  }
  std::unique_ptr<GossipData> merge(const GossipData& other) const override {
    auto items = items_;
    for (const auto& s : static_cast<const StringSet&>(other).items_) items.push_back(s);
    return std::make_unique<StringSet>(std::move(items));
  }

 private:
  std::vector<std::string> items_;
};

class CountingGossiper final : public Gossiper {
 public:
  Result<void> on_gossip_unicast(PeerName, ByteView msg) override {
    unicasts.emplace_back(reinterpret_cast<const char*>(msg.data()), msg.size());
    return {};
  }
  Result<std::unique_ptr<GossipData>> on_gossip_broadcast(PeerName, ByteView update) override {
    std::string s(reinterpret_cast<const char*>(update.data()), update.size());
    broadcasts[s]++;
    return std::unique_ptr<GossipData>(std::make_unique<StringSet>(std::vector{s}));
  }
  std::unique_ptr<GossipData> gossip() override { return nullptr; }
  Result<std::unique_ptr<GossipData>> on_gossip(ByteView) override {
    return std::unique_ptr<GossipData>();
  }
  std::map<std::string, int> broadcasts;
  std::vector<std::string> unicasts;
};

TEST(MeshGossipChannel, BroadcastReachesEveryPeerExactlyOnce) {
  MeshNet net(41);
  const size_t n = 12;
  std::vector<CountingGossiper> gossipers(n);
  std::vector<Gossip*> channels;
  for (size_t i = 0; i < n; ++i) net.add_peer();
  for (size_t i = 0; i < n; ++i)
    channels.push_back(&net.mesh(i).register_channel("test", gossipers[i]));
  net.start_all();
  // A ring plus discovery: a mesh of mixed path lengths.
  for (size_t i = 0; i < n; ++i) net.mesh(i).connect({net.ip((i + 1) % n)});
  ASSERT_TRUE(net.run_until([&] { return net.converged(); }, 10s));
  // converged() checks unicast routes; broadcast trees need every peer's
  // routes recalculated from the final topology: one more recalculation delay.
  net.world().run_for(MeshConfig{}.route_recalculation_delay);
  channels[3]->gossip_broadcast(std::make_shared<StringSet>(std::vector<std::string>{"hello"}));
  ASSERT_TRUE(channels[5]->gossip_unicast(peer_name(9), ByteView(std::string_view("psst"))).ok());
  net.world().run_for(2s);
  for (size_t i = 0; i < n; ++i) {
    if (i == 3) {
      EXPECT_TRUE(gossipers[i].broadcasts.empty());
    } else {
      EXPECT_EQ(gossipers[i].broadcasts["hello"], 1) << "peer " << i;
    }
    EXPECT_EQ(gossipers[i].unicasts.size(), i == 9 ? 1u : 0u) << "peer " << i;
  }
}

}  // namespace
}  // namespace loom::mesh::testing
