// The mesh engine that forms meshes in ns-3 (tests/mesh/) forms one between
// LinuxHosts: three network namespaces on a bridge (10.99.0.1-3), one
// LinuxHost and one Mesh in each, on Weave's port 6783 with a password.
// Peer 0 connects to nobody, peers 1 and 2 to peer 0 only; they must find
// each other through gossip. Then peer 2 dies, and the others must notice.
//
// All hosts share one EventLoop on the test's thread (LinuxHostOptions::netns
// puts each host's sockets in its namespace), so the test reads the engines'
// state between loop iterations with no locking. Needs root; skips otherwise.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "model/mesh/mesh.h"
#include "model/mesh/overlay.h"
#include "model/mesh/status.h"
#include "real-backend/event_loop.h"
#include "real-backend/linux_host.h"
#include "tests/support/netns.h"

namespace loom::mesh {
namespace {

using namespace std::chrono_literals;
using testing_live::BridgedNamespaces;

// A timeout, not a speed test: on an idle machine the mesh forms in about
// 2 s (two 1 s topology-update coalescing rounds: peer 0 tells 1 and 2 about
// each other, then they announce their new connection).
constexpr Time kPatience = 20s;
constexpr const char* kPassword = "loomtest mesh password";

PeerName peer_name(size_t i) { return PeerName(0x0a0000000000ULL + i + 1); }
std::string nickname(size_t i) { return "peer" + std::to_string(i); }
std::string label(size_t i) { return peer_name(i).to_string() + "(" + nickname(i) + ")"; }

double seconds(Time t) { return std::chrono::duration<double>(t).count(); }

// One Weave peer on a LinuxHost in a namespace. Members go in reverse: the
// mesh first, the host last.
struct LivePeer {
  std::unique_ptr<live::LinuxHost> host;
  std::unique_ptr<ImmediateOverlay> overlay;
  std::unique_ptr<Mesh> mesh;
};

class MeshInNamespaces : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = testing_live::why_no_netns(); !why.empty()) GTEST_SKIP() << why;
    net_ = std::make_unique<BridgedNamespaces>("mesh", 3);
    ASSERT_TRUE(net_->ok()) << net_->error();
    auto loop = live::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.error().message;
    loop_ = std::move(*loop);
    for (size_t i = 0; i < 3; ++i) {
      // LOOM_LOG=mesh=debug shows what the engines do.
      auto from_env = live::LinuxHostOptions::from_environment(nickname(i));
      ASSERT_TRUE(from_env.ok()) << from_env.error().message;
      live::LinuxHostOptions options = std::move(*from_env);
      options.address = net_->address(i);
      options.netns = net_->name(i);
      options.seed = i + 1;
      auto host = live::LinuxHost::create(*loop_, options);
      ASSERT_TRUE(host.ok()) << host.error().message;
      auto peer = std::make_unique<LivePeer>();
      peer->host = std::move(*host);
      peer->overlay = std::make_unique<ImmediateOverlay>(*peer->host);
      MeshIdentity identity;
      identity.name = peer_name(i);
      identity.nickname = nickname(i);
      peer->mesh = std::make_unique<Mesh>(*peer->host, MeshConfig{}, identity,
                                          std::string(kPassword), *peer->overlay);
      auto started = peer->mesh->start();
      ASSERT_TRUE(started.ok()) << started.error().message;
      peers_.push_back(std::move(peer));
    }
  }

  // Peers before the loop, the loop before the namespaces.
  void TearDown() override {
    peers_.clear();
    loop_.reset();
    net_.reset();
  }

  Mesh& mesh(size_t i) { return *peers_.at(i)->mesh; }
  std::string address(size_t i) const { return net_->address(i).to_string(); }

  size_t index_of(PeerName name) const {
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i] && peers_[i]->mesh->name() == name) return i;
    }
    return npos;
  }

  // MeshNet::converged (tests/mesh/mesh_test_net.h), for live peers: every
  // topology identical and of `in_mesh.size()` peers, every announced
  // connection established, and every unicast route present and leading to
  // its destination.
  bool converged(const std::vector<size_t>& in_mesh) {
    const size_t n = in_mesh.size();
    std::optional<Bytes> first;
    for (size_t i : in_mesh) {
      const Peers& p = mesh(i).peers();
      if (p.size() != n) return false;
      for (const Peer& peer : p.all()) {
        for (const PeerConnection& c : peer.connections) {
          if (!c.established) return false;
        }
      }
      Bytes all = p.encode_all();
      if (!first) {
        first = std::move(all);
      } else if (all != *first) {
        return false;
      }
    }
    for (size_t i : in_mesh) {
      for (size_t j : in_mesh) {
        size_t at = i;
        for (size_t hops = 0; at != j; ++hops) {
          if (hops > n) return false;
          auto next = mesh(at).routes().unicast(peer_name(j));
          if (!next) return false;
          at = index_of(*next);
          if (at == npos) return false;
        }
      }
    }
    return true;
  }

  // Runs the loop until pred holds; returns how long that took, or nullopt
  // after kPatience.
  template <typename Pred>
  std::optional<Time> run_until(Pred pred) {
    const Time start = loop_->now();
    if (!loop_->run_until(pred, kPatience)) return std::nullopt;
    return loop_->now() - start;
  }

  static constexpr size_t npos = static_cast<size_t>(-1);
  std::unique_ptr<BridgedNamespaces> net_;
  std::unique_ptr<live::EventLoop> loop_;
  std::vector<std::unique_ptr<LivePeer>> peers_;
};

// Rows of status JSON "Connections" whose Peer is `peer`.
std::vector<nlohmann::json> rows_for(const nlohmann::json& status, const std::string& peer) {
  std::vector<nlohmann::json> rows;
  for (const auto& row : status.at("Connections")) {
    if (row.at("Peer") == peer) rows.push_back(row);
  }
  return rows;
}

TEST_F(MeshInNamespaces, ThreePeersFormAMeshThroughDiscoveryAndNoticeADeadPeer) {
  EXPECT_TRUE(mesh(1).connect({address(0)}).empty());
  EXPECT_TRUE(mesh(2).connect({address(0)}).empty());

  auto formed = run_until([&] { return converged({0, 1, 2}); });
  ASSERT_TRUE(formed) << "3 live peers did not converge within " << seconds(kPatience) << " s";
  std::cout << "[ converged ] 3 live peers in " << seconds(*formed) << " s\n";

  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(mesh(i).connected_peers().size(), 2u) << "peer " << i;
    for (size_t j = 0; j < 3; ++j) {
      if (i == j) continue;
      const Connection* c = mesh(i).connection_to(peer_name(j));
      ASSERT_NE(c, nullptr) << "peer " << i << " has no connection to peer " << j;
      EXPECT_EQ(c->state(), Connection::State::established);
      EXPECT_TRUE(c->encrypted()) << "peer " << i << " to " << j;
    }
  }
  // Nobody told 1 and 2 about each other: their connection is gossip's doing.
  EXPECT_EQ(mesh(1).connection_maker().direct_peers(), std::vector<std::string>{address(0)});
  EXPECT_EQ(mesh(2).connection_maker().direct_peers(), std::vector<std::string>{address(0)});

  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE("peer " + std::to_string(i));
    const nlohmann::json status = to_json(mesh(i).status());
    EXPECT_EQ(status.at("Name"), peer_name(i).to_string());
    EXPECT_EQ(status.at("Encryption"), "enabled");
    EXPECT_EQ(status.at("PeerCount"), 3);
    EXPECT_EQ(status.at("EstablishedConnections"), 6);  // 3 peers × 2, as announced
    EXPECT_EQ(status.at("ConnectionCounts"), (nlohmann::json{{"established", 2}}))
        << status.dump(2);
    for (size_t j = 0; j < 3; ++j) {
      if (i == j) continue;
      auto rows = rows_for(status, label(j));
      ASSERT_EQ(rows.size(), 1u) << status.dump(2);
      EXPECT_EQ(rows[0].at("State"), "established");
      EXPECT_NE(rows[0].at("Info").get<std::string>().find("encrypted"), std::string::npos);
      // Whichever side dialled, the address is the other namespace's.
      EXPECT_EQ(rows[0].at("Address").get<std::string>().rfind(address(j) + ":", 0), 0u)
          << rows[0].dump();
    }
  }

  // Peer 2 dies: its mesh and host go, closing its sockets.
  peers_[2].reset();
  auto noticed = run_until([&] {
    return mesh(0).connection_to(peer_name(2)) == nullptr &&
           mesh(1).connection_to(peer_name(2)) == nullptr && converged({0, 1});
  });
  ASSERT_TRUE(noticed) << "peers 0 and 1 still see peer 2 after " << seconds(kPatience) << " s";
  std::cout << "[ noticed   ] peer 2 gone from peers 0 and 1 in " << seconds(*noticed) << " s\n";
  for (size_t i = 0; i < 2; ++i) {
    SCOPED_TRACE("peer " + std::to_string(i));
    EXPECT_EQ(mesh(i).connected_peers(), std::vector<PeerName>{peer_name(1 - i)});
    const nlohmann::json status = to_json(mesh(i).status());
    EXPECT_EQ(status.at("PeerCount"), 2);
    EXPECT_EQ(status.at("EstablishedConnections"), 2);
    EXPECT_TRUE(rows_for(status, label(2)).empty()) << status.dump(2);
    EXPECT_EQ(rows_for(status, label(1 - i)).size(), 1u) << status.dump(2);
  }
}

}  // namespace
}  // namespace loom::mesh
