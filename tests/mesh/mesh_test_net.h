// MeshNet: N Mesh peers on one sim::World, for the mesh_*_test programs.
//
// The underlay is a star: every peer host has one 1 Gbps, 1 ms link to a hub
// host that only routes, so any two peers are 2 ms apart one way (4 ms RTT).
// add_site() adds another hub behind the first (a 1 ms link): peers at
// different sites are 3 ms apart, and cutting site_link() partitions them.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/mesh/mesh.h"
#include "model/mesh/overlay.h"
#include "sim/world.h"

namespace loom::mesh::testing {

using namespace std::chrono_literals;

inline PeerName peer_name(size_t i) { return PeerName(0x0a0000000000ULL + i + 1); }

struct PeerOptions {
  MeshConfig config;
  std::optional<std::string> password;
  size_t site = 0;                  // from add_site(); 0 is the first hub
  std::optional<ShortID> short_id;  // forced (collisions); default random
};

class MeshNet {
 public:
  // streams: how the control plane's streams are simulated (ns-3's TCP, or
  // whole-message transfers for large meshes).
  explicit MeshNet(uint64_t seed = 1, sim::StreamFidelity streams = sim::StreamFidelity::tcp)
      : world_(options(seed, streams)) {
    hub_ = world_.add_host("hub");
    sites_.push_back(Site{hub_, 0});
  }
  MeshNet(const MeshNet&) = delete;
  MeshNet& operator=(const MeshNet&) = delete;
  ~MeshNet() {
    meshes_.clear();
    overlays_.clear();
  }

  // A host on the star (at a site's hub), without a mesh yet.
  size_t add_host(const std::string& name, size_t site = 0) {
    size_t h = world_.add_host(name);
    last_link_ = world_.link(sites_.at(site).hub, h);
    return h;
  }
  // Another hub, linked to the first. Returns the site's index.
  size_t add_site() {
    const size_t hub = world_.add_host("hub" + std::to_string(sites_.size()));
    sites_.push_back(Site{hub, world_.link(hub_, hub)});
    return sites_.size() - 1;
  }
  // The link from a site's hub to the first hub (site > 0).
  size_t site_link(size_t site) const { return sites_.at(site).link; }

  // A peer (host + mesh), started. Returns its index.
  size_t add_peer(MeshConfig config = {}, std::optional<std::string> password = std::nullopt) {
    PeerOptions options;
    options.config = config;
    options.password = std::move(password);
    return add_peer(options);
  }
  size_t add_peer(const PeerOptions& options) {
    const size_t i = meshes_.size();
    size_t h = add_host("peer" + std::to_string(i), options.site);
    hosts_.push_back(h);
    links_.push_back(last_link_);
    options_.push_back(options);
    overlays_.emplace_back();
    meshes_.emplace_back();
    make_mesh(i);
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

  // Kills peer i's process: its mesh is destroyed, then its host stopped
  // (every TCP connection reset). mesh(i) is invalid until restart_peer.
  void stop_peer(size_t i) {
    meshes_.at(i).reset();
    overlays_.at(i).reset();
    world_.stop_host(hosts_.at(i));
  }
  // Starts it again: a fresh Host (a new Random, hence a new UID, as a
  // restarted Weave peer draws), a new Mesh with the same name and options,
  // started. Like weaver without --resume, it has no direct peers: connect().
  void restart_peer(size_t i) {
    world_.start_host(hosts_.at(i));
    make_mesh(i);
    auto ok = meshes_[i]->start();
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  }
  bool running(size_t i) const { return meshes_.at(i) != nullptr; }
  // The peers running, in index order.
  std::vector<size_t> running_peers() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < meshes_.size(); ++i) {
      if (meshes_[i]) out.push_back(i);
    }
    return out;
  }
  // The link from peer i's host to its hub.
  size_t link_of(size_t i) const { return links_.at(i); }

  sim::World& world() { return world_; }
  Mesh& mesh(size_t i) { return *meshes_[i]; }
  size_t size() const { return meshes_.size(); }
  Host& host(size_t i) { return world_.host(hosts_[i]); }
  std::string ip(size_t i) { return host(i).address().to_string(); }
  const std::vector<std::string>& log() const { return log_; }
  // The virtual times of the log lines containing every needle, in order.
  std::vector<Time> log_times(const std::vector<std::string>& needles) const {
    std::vector<Time> out;
    for (size_t l = 0; l < log_.size(); ++l) {
      bool all = true;
      for (const auto& n : needles) all = all && log_[l].find(n) != std::string::npos;
      if (all) out.push_back(log_times_[l]);
    }
    return out;
  }
  bool logged(const std::string& needle) const {
    for (const auto& l : log_) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }

  // Where two topologies of the same peers first differ, as ": ..." or "".
  static std::string first_difference(const Peers& a, const Peers& b) {
    const auto describe = [](std::ostream& out, const Peer& x) {
      out << "v" << x.version << " uid " << x.uid << " sid " << x.short_id << " [";
      for (const PeerConnection& c : x.connections) {
        out << c.remote.to_string() << (c.established ? " " : "(not established) ");
      }
      out << "]";
    };
    for (const Peer& p : a.all()) {
      std::ostringstream mine, theirs;
      describe(mine, p);
      const Peer* q = b.find(p.name);
      if (q != nullptr) describe(theirs, *q);
      if (q == nullptr || mine.str() != theirs.str()) {
        std::ostringstream out;
        out << ": " << p.name.to_string() << " is " << mine.str() << " vs "
            << (q == nullptr ? std::string("missing") : theirs.str());
        return out.str();
      }
    }
    return "";
  }

  // All topologies identical, every peer knowing `peers` peers; every
  // announced connection established; every unicast route present and
  // leading to its destination.
  bool converged(const std::vector<size_t>& peers_in_mesh) {
    return check(peers_in_mesh, false).empty();
  }
  // Why converged() does not hold yet (the first reason found), or "".
  std::string not_converged(const std::vector<size_t>& peers_in_mesh) {
    return check(peers_in_mesh, true);
  }
  // Over the running peers.
  bool converged() { return converged(running_peers()); }

  // World::poll_until, every 10 ms by default.
  template <typename Pred>
  std::optional<Time> run_until(Pred pred, Time limit, Time step = 10ms) {
    return world_.poll_until(pred, limit, step);
  }

  static constexpr size_t npos = static_cast<size_t>(-1);
  size_t index_of(PeerName name) const {
    // Peer i is named peer_name(i).
    const uint64_t i = name.value - peer_name(0).value;
    if (name.value < peer_name(0).value || i >= meshes_.size()) return npos;
    return meshes_[i] && meshes_[i]->name() == name ? static_cast<size_t>(i) : npos;
  }

 private:
  // converged()'s test, cheapest evidence first: sizes and digests (O(1) a
  // peer), then the records themselves, then the routes, each pair's walk
  // ending where an earlier walk to the same destination succeeded. Says
  // why not (a short reason unless `explain`), or "".
  std::string check(const std::vector<size_t>& peers_in_mesh, bool explain) {
    const size_t n = peers_in_mesh.size();
    if (n == 0) return {};
    std::ostringstream why;
    const size_t f = peers_in_mesh.front();
    const Peers& first = meshes_[f]->peers();
    for (size_t i : peers_in_mesh) {
      const Peers& p = meshes_[i]->peers();
      if (p.size() != n) {
        why << "peer " << i << " knows " << p.size() << " of " << n << " peers";
        return why.str();
      }
    }
    for (int pass = 0; pass < 2; ++pass) {  // all digests, then all records
      for (size_t i : peers_in_mesh) {
        const Peers& p = meshes_[i]->peers();
        if (pass == 0 ? p.digest() != first.digest() : !same_records(p, first)) {
          why << "peer " << i << "'s topology differs from peer " << f << "'s";
          if (explain) why << first_difference(first, p);
          return why.str();
        }
      }
    }
    // Every view is the same: one says what is established.
    for (const Peer& peer : first.all()) {
      for (const PeerConnection& c : peer.connections) {
        if (!c.established) {
          why << "peer " << f << " sees " << peer.name.to_string() << " -> " << c.remote.to_string()
              << " not established";
          return why.str();
        }
      }
    }
    // 0: not known to reach j; 1: reaches j; 2: on the walk being made.
    std::vector<uint8_t> reaches(meshes_.size());
    std::vector<size_t> walk;
    for (size_t j : peers_in_mesh) {
      std::fill(reaches.begin(), reaches.end(), 0);
      reaches[j] = 1;
      for (size_t i : peers_in_mesh) {
        walk.clear();
        size_t at = i;
        while (reaches[at] == 0) {
          reaches[at] = 2;
          walk.push_back(at);
          auto next = meshes_[at]->routes().unicast(peer_name(j));
          if (!next) {
            why << "route " << i << " -> " << j << ": no next hop at peer " << at;
            return why.str();
          }
          at = index_of(*next);
          if (at == npos) {
            why << "route " << i << " -> " << j << " leads to a peer not running";
            return why.str();
          }
        }
        if (reaches[at] == 2) {
          why << "route " << i << " -> " << j << " loops";
          return why.str();
        }
        for (size_t w : walk) reaches[w] = 1;
      }
    }
    return {};
  }

  // Every record the same: what encode_all() carries, field by field.
  static bool same_records(const Peers& a, const Peers& b) {
    if (&a == &b) return true;
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); ++k) {
      const Peer& x = a.all()[k];
      const Peer& y = b.all()[k];
      if (x.name != y.name || x.uid != y.uid || x.version != y.version ||
          x.short_id != y.short_id || x.has_short_id != y.has_short_id ||
          x.nickname != y.nickname || x.connections != y.connections) {
        return false;
      }
    }
    return true;
  }

  sim::WorldOptions options(uint64_t seed, sim::StreamFidelity streams) {
    sim::WorldOptions o;
    o.seed = seed;
    o.streams = streams;
    o.log_filter = LogFilter(LogLevel::warn);
    o.log_filter.set("mesh", LogLevel::info);
    o.log_sink = [this](std::string_view line) {
      log_.emplace_back(line);
      log_times_.push_back(world_.now());
    };
    return o;
  }

  void make_mesh(size_t i) {
    const PeerOptions& o = options_[i];
    Host& host = world_.host(hosts_[i]);
    overlays_[i] = std::make_unique<ImmediateOverlay>(host);
    meshes_[i] = std::make_unique<Mesh>(
        host, o.config, MeshIdentity{peer_name(i), "peer" + std::to_string(i), o.short_id},
        o.password, *overlays_[i]);
  }

  struct Site {
    size_t hub;
    size_t link;  // to the first hub
  };

  std::vector<std::string> log_;
  std::vector<Time> log_times_;  // of each log_ line
  sim::World world_;
  size_t hub_ = 0;
  size_t started_ = 0;
  size_t last_link_ = 0;
  std::vector<Site> sites_;
  std::vector<size_t> hosts_;
  std::vector<size_t> links_;  // each peer's link to its hub
  std::vector<PeerOptions> options_;
  std::vector<std::unique_ptr<ImmediateOverlay>> overlays_;
  std::vector<std::unique_ptr<Mesh>> meshes_;
};

}  // namespace loom::mesh::testing
