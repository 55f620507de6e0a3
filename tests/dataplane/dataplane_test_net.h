// DataplaneNet: N Weave peers (a Mesh and a DataPlane each) on one
// sim::World, with pods behind their bridges, for the data plane tests.
//
// The underlay is a star as in tests/mesh/mesh_test_net.h: every peer host
// has a 1 Gbps, 1 ms link to a hub that only routes (peers 2 ms apart one
// way). Each peer's bridge is wrapped in a PortTap, so a test sees every
// frame the data plane delivers to the pods and can send frames as if a pod
// had.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/dataplane/data_plane.h"
#include "model/mesh/mesh.h"
#include "sim/world.h"

namespace loom::dataplane::testing {

using namespace std::chrono_literals;

inline mesh::PeerName peer_name(size_t i) { return mesh::PeerName(0x0a0000000000ULL + i + 1); }
// Pod j of the world: 10.32.0.(j+1)/24, every pod on one overlay subnet.
inline Ipv4 pod_ip(size_t j) { return Ipv4::from_octets(10, 32, 0, static_cast<uint8_t>(j + 1)); }

// A FramePort in front of a host's bridge(): passes everything through and
// records what goes to the pods.
class PortTap final : public FramePort {
 public:
  explicit PortTap(FramePort& inner) : inner_(inner) {
    inner_.on_receive([this](ByteView frame) {
      if (receiver_) receiver_(frame);
    });
  }
  ~PortTap() override { inner_.on_receive(nullptr); }
  bool send(ByteView frame) override {
    delivered.push_back(frame.to_bytes());
    return inner_.send(frame);
  }
  void on_receive(Receiver receiver) override { receiver_ = std::move(receiver); }
  size_t mtu() const override { return inner_.mtu(); }
  // A frame as if a local pod had sent it.
  void from_pod(ByteView frame) {
    if (receiver_) receiver_(frame);
  }

  std::vector<Bytes> delivered;  // every frame the data plane sent to the pods

 private:
  FramePort& inner_;
  Receiver receiver_;
};

struct PeerOptions {
  mesh::MeshConfig mesh;
  DataPlaneConfig dataplane;
  std::optional<std::string> password;
};

class DataplaneNet {
 public:
  explicit DataplaneNet(uint64_t seed = 1, size_t pod_mtu = 1376) : world_(options(seed, pod_mtu)) {
    hub_ = world_.add_host("hub");
  }
  DataplaneNet(const DataplaneNet&) = delete;
  DataplaneNet& operator=(const DataplaneNet&) = delete;
  ~DataplaneNet() {
    // Mesh first (its connections hold forwarders), then the data planes.
    for (auto& p : peers_) p.mesh.reset();
    for (auto& p : peers_) {
      p.topology.reset();
      p.plane.reset();
      p.tap.reset();
    }
  }

  // A peer: host, tap, data plane, mesh; started. Returns its index.
  size_t add_peer(const PeerOptions& o = {}) {
    const size_t i = peers_.size();
    Peer p;
    p.host = world_.add_host("peer" + std::to_string(i));
    p.link = world_.link(hub_, p.host);
    p.options = o;
    peers_.push_back(std::move(p));
    make(i);
    return i;
  }
  // Starts everything added (after all links exist).
  void start() {
    world_.finalize_routes();
    for (size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i].started) continue;
      auto ok = peers_[i].plane->start();
      ASSERT_TRUE(ok.ok()) << ok.error().message;
      auto m = peers_[i].mesh->start();
      ASSERT_TRUE(m.ok()) << m.error().message;
      peers_[i].started = true;
    }
  }
  void connect(size_t from, size_t to) {
    auto errors = peers_[from].mesh->connect({ip(to)});
    EXPECT_TRUE(errors.empty());
  }
  // Kills peer i's process: its engines go (mesh first: the data plane
  // outlives it), then its host stops.
  void kill(size_t i) {
    Peer& p = peers_[i];
    p.mesh.reset();
    p.topology.reset();
    p.plane.reset();
    p.tap.reset();
    world_.stop_host(p.host);
  }
  // A pod behind peer i; returns its world index (pod_ip(index) is its address).
  size_t add_pod(size_t i) {
    const size_t pod = world_.pod_count();
    return world_.add_pod(peers_[i].host, pod_ip(pod), 24);
  }

  sim::World& world() { return world_; }
  Host& host(size_t i) { return world_.host(peers_[i].host); }
  size_t host_index(size_t i) const { return peers_[i].host; }
  size_t link_of(size_t i) const { return peers_[i].link; }
  std::string ip(size_t i) { return host(i).address().to_string(); }
  mesh::Mesh& mesh(size_t i) { return *peers_[i].mesh; }
  DataPlane& plane(size_t i) { return *peers_[i].plane; }
  PortTap& tap(size_t i) { return *peers_[i].tap; }
  double metric(size_t i, std::string_view name, const Labels& labels = {}) {
    return host(i).metrics().value(name, labels);
  }
  double dropped(size_t i, Drop reason) {
    return metric(i, "loom_dataplane_dropped_frames_total", {{"reason", to_string(reason)}});
  }

  // Every connection of every peer established, every pair routed.
  bool converged() {
    for (auto& p : peers_) {
      for (const mesh::Peer& peer : p.mesh->peers().all()) {
        for (const auto& c : peer.connections) {
          if (!c.established) return false;
        }
      }
      if (p.mesh->peers().size() != peers_.size()) return false;
    }
    for (size_t i = 0; i < peers_.size(); ++i) {
      for (size_t j = 0; j < peers_.size(); ++j) {
        if (i != j && !peers_[i].mesh->routes().unicast(peer_name(j))) return false;
      }
    }
    return true;
  }
  // The overlay peer i sends to peer j through ("fastdp", "sleeve", "none").
  std::string overlay(size_t i, size_t j) {
    const SwitchForwarder* sw = plane(i).connection_to(peer_name(j));
    return sw == nullptr ? "none" : sw->best_overlay();
  }

  // World::poll_until, every 10 ms by default.
  template <typename Pred>
  std::optional<Time> run_until(Pred pred, Time limit, Time step = 10ms) {
    return world_.poll_until(pred, limit, step);
  }
  // Pings from pod `from` to pod `to`; returns the replies.
  size_t ping(size_t from, size_t to, int count, Time interval = 100ms) {
    const size_t id = world_.ping(from, pod_ip(to), count, interval);
    world_.run_for(interval * (count + 1) + 500ms);
    return world_.ping_stats(id).rtts.size();
  }

  const std::vector<std::string>& log() const { return log_; }
  std::vector<Time> log_times(const std::string& needle) const {
    std::vector<Time> out;
    for (size_t l = 0; l < log_.size(); ++l) {
      if (log_[l].find(needle) != std::string::npos) out.push_back(log_times_[l]);
    }
    return out;
  }
  bool logged(const std::string& needle) const { return !log_times(needle).empty(); }

 private:
  struct Peer {
    size_t host = 0;
    size_t link = 0;
    PeerOptions options;
    std::unique_ptr<PortTap> tap;
    std::unique_ptr<DataPlane> plane;
    std::unique_ptr<mesh::Mesh> mesh;
    std::unique_ptr<MeshTopology> topology;
    bool started = false;
  };

  sim::WorldOptions options(uint64_t seed, size_t pod_mtu) {
    sim::WorldOptions o;
    o.seed = seed;
    o.pod_mtu = pod_mtu;
    o.log_filter = LogFilter(LogLevel::warn);
    o.log_filter.set("dataplane", LogLevel::info);
    o.log_filter.set("mesh", LogLevel::info);
    if (auto env = sim::log_filter_from_env(); env.ok() && std::getenv("LOOM_LOG") != nullptr) {
      o.log_filter = *env;
    }
    o.log_sink = [this](std::string_view line) {
      log_.emplace_back(line);
      log_times_.push_back(world_.now());
      if (std::getenv("LOOM_LOG") != nullptr)
        fprintf(stderr, "%.*s\n", int(line.size()), line.data());
    };
    return o;
  }

  void make(size_t i) {
    Peer& p = peers_[i];
    Host& h = world_.host(p.host);
    p.tap = std::make_unique<PortTap>(h.bridge());
    p.plane = std::make_unique<DataPlane>(h, p.options.dataplane, p.tap.get());
    mesh::MeshIdentity identity{peer_name(i), "peer" + std::to_string(i), std::nullopt};
    p.mesh =
        std::make_unique<mesh::Mesh>(h, p.options.mesh, identity, p.options.password, *p.plane);
    p.topology = std::make_unique<MeshTopology>(*p.mesh);
    p.plane->attach(*p.topology);
  }

  std::vector<std::string> log_;
  std::vector<Time> log_times_;
  sim::World world_;
  size_t hub_ = 0;
  std::vector<Peer> peers_;
};

}  // namespace loom::dataplane::testing
