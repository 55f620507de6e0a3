// MeshNet: N Mesh peers on one sim::World, for the mesh_*_test programs.
//
// The underlay is a star: every peer host has one 1 Gbps, 1 ms link to a hub
// host that only routes, so any two peers are 2 ms apart one way (4 ms RTT).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/mesh/mesh.h"
#include "model/mesh/overlay.h"
#include "sim/world.h"

namespace loom::mesh::testing {

using namespace std::chrono_literals;

inline PeerName peer_name(size_t i) { return PeerName(0x0a0000000000ULL + i + 1); }

class MeshNet {
 public:
  explicit MeshNet(uint64_t seed = 1) : world_(options(seed)) { hub_ = world_.add_host("hub"); }
  MeshNet(const MeshNet&) = delete;
  MeshNet& operator=(const MeshNet&) = delete;
  ~MeshNet() {
    meshes_.clear();
    overlays_.clear();
  }

  // A host on the star, without a mesh yet.
  size_t add_host(const std::string& name) {
    size_t h = world_.add_host(name);
    world_.link(hub_, h);
    return h;
  }

  // A peer (host + mesh), started. Returns its index.
  size_t add_peer(MeshConfig config = {}, std::optional<std::string> password = std::nullopt) {
    const size_t i = meshes_.size();
    size_t h = add_host("peer" + std::to_string(i));
    hosts_.push_back(h);
    overlays_.push_back(std::make_unique<ImmediateOverlay>(world_.host(h)));
    meshes_.push_back(std::make_unique<Mesh>(world_.host(h), config,
                                             MeshIdentity{peer_name(i), "peer" + std::to_string(i)},
                                             password, *overlays_.back()));
    return i;
  }
  // Starts every peer not started (after all links exist, so routes are final).
  void start_all() {
    world_.finalize_routes();
    for (; started_ < meshes_.size(); ++started_) {
      auto ok = meshes_[started_]->start();
      EXPECT_TRUE(ok.ok()) << ok.error().message;
    }
  }

  sim::World& world() { return world_; }
  Mesh& mesh(size_t i) { return *meshes_[i]; }
  size_t size() const { return meshes_.size(); }
  Host& host(size_t i) { return world_.host(hosts_[i]); }
  std::string ip(size_t i) { return host(i).address().to_string(); }
  const std::vector<std::string>& log() const { return log_; }
  bool logged(const std::string& needle) const {
    for (const auto& l : log_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  // All topologies identical, every peer knowing `peers` peers; every
  // announced connection established; every unicast route present and
  // leading to its destination.
  bool converged(const std::vector<size_t>& peers_in_mesh) {
    const size_t n = peers_in_mesh.size();
    std::optional<Bytes> first;
    for (size_t i : peers_in_mesh) {
      const Peers& p = meshes_[i]->peers();
      if (p.size() != n) return false;
      for (const Peer& peer : p.all()) {
        for (const PeerConnection& c : peer.connections) {
          if (!c.established) return false;
        }
      }
    }
    for (size_t i : peers_in_mesh) {
      Bytes all = meshes_[i]->peers().encode_all();
      if (!first) {
        first = std::move(all);
      } else if (all != *first) {
        return false;
      }
    }
    for (size_t i : peers_in_mesh) {
      for (size_t j : peers_in_mesh) {
        if (i == j) continue;
        size_t at = i;
        for (size_t hops = 0; at != j; ++hops) {
          if (hops > n) return false;
          auto next = meshes_[at]->routes().unicast(peer_name(j));
          if (!next) return false;
          at = index_of(*next);
          if (at == npos) return false;
        }
      }
    }
    return true;
  }
  bool converged() {
    std::vector<size_t> all(meshes_.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    return converged(all);
  }

  // Polls every `step` of virtual time until pred holds or limit passes;
  // returns the virtual time it first held, or nullopt.
  template <typename Pred>
  std::optional<Time> run_until(Pred pred, Time limit, Time step = 10ms) {
    while (world_.now() <= limit) {
      if (pred()) return world_.now();
      world_.run_for(step);
    }
    return std::nullopt;
  }

  static constexpr size_t npos = static_cast<size_t>(-1);
  size_t index_of(PeerName name) const {
    for (size_t i = 0; i < meshes_.size(); ++i) {
      if (meshes_[i]->name() == name) return i;
    }
    return npos;
  }

 private:
  sim::WorldOptions options(uint64_t seed) {
    sim::WorldOptions o;
    o.seed = seed;
    o.log_filter = LogFilter(LogLevel::warn);
    o.log_filter.set("mesh", LogLevel::info);
    o.log_sink = [this](std::string_view line) { log_.emplace_back(line); };
    return o;
  }

  std::vector<std::string> log_;
  sim::World world_;
  size_t hub_ = 0;
  size_t started_ = 0;
  std::vector<size_t> hosts_;
  std::vector<std::unique_ptr<ImmediateOverlay>> overlays_;
  std::vector<std::unique_ptr<Mesh>> meshes_;
};

}  // namespace loom::mesh::testing
