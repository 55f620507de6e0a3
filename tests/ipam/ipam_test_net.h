// IpamNet: a MeshNet (tests/mesh/mesh_test_net.h) with an Allocator on
// every peer's mesh, for the ipam_world_* tests.
//
// Peers sit at sites (add_site): every peer's host has its own link to its
// site's hub, and each extra site's hub a link to the first one, so cutting
// a site's link partitions it and cutting a peer's link isolates it. The
// fixture also keeps the ground truth the invariant checker compares the
// allocators with: which peers run, which links are up, and which
// addresses running containers use (a container keeps its address when its
// host's weaver restarts, whatever the allocator remembers).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/ipam/allocator.h"
#include "model/ipam/invariants.h"
#include "model/ipam/peer_view.h"
#include "tests/mesh/mesh_test_net.h"

namespace loom::ipam::testing {

using namespace std::chrono_literals;
using mesh::testing::peer_name;

inline Cidr cidr(const std::string& text) {
  auto c = Cidr::parse(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? *c : Cidr{};
}
inline Address address(const std::string& text) {
  auto a = parse_address(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : 0;
}
// "c" + 3 -> "c3" (g++ 12 warns falsely on "c" + std::to_string(3)).
inline std::string id(std::string prefix, size_t i) {
  prefix += std::to_string(i);
  return prefix;
}
inline InitMode consensus(std::optional<unsigned> n = std::nullopt) {
  InitMode m;
  m.peer_count = n;
  return m;
}
inline InitMode seed(const std::vector<size_t>& peers) {
  InitMode m;
  m.kind = InitMode::Kind::seed;
  for (size_t i : peers) m.seed.push_back(peer_name(i));
  return m;
}
inline InitMode observer() {
  InitMode m;
  m.kind = InitMode::Kind::observer;
  return m;
}

// The outcome of an operation started with IpamNet::allocate/claim: empty
// while pending.
struct Pending {
  std::optional<Result<Address>> result;
  bool done() const { return result.has_value(); }
  bool ok() const { return result && result->ok(); }
  Address value() const { return ok() ? **result : 0; }
  std::string error() const { return result && !result->ok() ? result->error().message : ""; }
};
using PendingPtr = std::shared_ptr<Pending>;

class IpamNet {
 public:
  explicit IpamNet(uint64_t seed = 1, std::string universe = "10.32.0.0/24")
      : net_(seed), universe_(cidr(universe)) {}
  IpamNet(const IpamNet&) = delete;
  IpamNet& operator=(const IpamNet&) = delete;
  ~IpamNet() {
    // Allocators go before their meshes and hosts.
    allocators_.clear();
    views_.clear();
  }

  size_t add_site() { return net_.add_site(); }
  // A peer (host + mesh), not started. Its allocator is made by start_all.
  size_t add_peer(InitMode init, size_t site = 0) {
    mesh::testing::PeerOptions o;
    o.site = site;
    const size_t i = net_.add_peer(o);
    inits_.push_back(std::move(init));
    sites_.push_back(site);
    allocators_.emplace_back();
    views_.emplace_back();
    return i;
  }
  // Starts every mesh, then every allocator, without connecting anyone.
  void start_all() {
    net_.start_all();
    for (size_t i = 0; i < allocators_.size(); ++i) {
      if (ips_.size() <= i) ips_.push_back(net_.ip(i));  // a stopped host has none to ask
      if (!allocators_[i]) make_allocator(i);
    }
  }
  std::string ip(size_t i) const { return ips_.at(i); }
  // Each peer of `peers` told to connect to every other one.
  void connect(const std::vector<size_t>& peers) {
    for (size_t i : peers) {
      std::vector<std::string> others;
      for (size_t j : peers) {
        if (j != i) others.push_back(ip(j));
      }
      net_.mesh(i).connect(others);
    }
  }
  void connect_all() { connect(all()); }
  bool mesh_converged() { return net_.converged(); }
  // Runs until the running peers' meshes have converged (the duplicate
  // connections of a simultaneous start resolved).
  bool wait_mesh(Time limit = 10s) {
    return net_.run_until([&] { return net_.converged(); }, net_.world().now() + limit).has_value();
  }
  std::vector<size_t> all() const {
    std::vector<size_t> out;
    for (size_t i = 0; i < allocators_.size(); ++i) out.push_back(i);
    return out;
  }

  // --- Faults.
  void set_site_up(size_t site, bool up) {
    net_.world().set_link_up(net_.site_link(site), up);
    site_down_[site] = !up;
  }
  void set_peer_link_up(size_t i, bool up) {
    net_.world().set_link_up(net_.link_of(i), up);
    peer_link_down_[i] = !up;
  }
  void heal_all() {
    for (auto& [site, down] : site_down_) {
      if (down) set_site_up(site, true);
    }
    for (auto& [peer, down] : peer_link_down_) {
      if (down) set_peer_link_up(peer, true);
    }
  }
  // Kills weaver on peer i: allocator, then mesh, then the host's process.
  void kill(size_t i) {
    allocators_.at(i).reset();
    views_.at(i).reset();
    net_.stop_peer(i);
  }
  // Starts it again with its store (or a wiped one), a new UID, and the
  // others as targets.
  void restart(size_t i, bool keep_store = true) {
    net_.restart_peer(i);
    if (!keep_store) {
      Store& store = net_.host(i).store();
      for (const std::string& key : store.keys()) (void)store.erase(key);
    }
    make_allocator(i);
    std::vector<std::string> others;
    for (size_t j : all()) {
      if (j != i) others.push_back(ip(j));
    }
    net_.mesh(i).connect(others);
  }
  bool running(size_t i) const { return allocators_.at(i) != nullptr; }

  // --- Operations. The result arrives while the world runs.
  PendingPtr allocate(size_t i, const std::string& ident) {
    auto p = std::make_shared<Pending>();
    alloc(i).allocate(ident, [this, p, i, ident](Result<Address> r) {
      if (r) workloads_[{i, ident}] = *r;
      p->result = std::move(r);
    });
    return p;
  }
  PendingPtr claim(size_t i, const std::string& ident, const std::string& cidr_text) {
    auto p = std::make_shared<Pending>();
    const Cidr c = cidr(cidr_text);
    alloc(i).claim(ident, c, true, false, [this, p, i, ident, c](Result<void> r) {
      if (r) {
        workloads_[{i, ident}] = c.addr;
        p->result = c.addr;
      } else {
        p->result = r.error();
      }
    });
    return p;
  }
  // Runs until the operation finishes (or limit passes); its result.
  Result<Address> wait(const PendingPtr& p, Time limit = 60s) {
    net_.run_until([&] { return p->done(); }, net_.world().now() + limit);
    if (!p->done()) return make_error("still pending after the limit");
    return *p->result;
  }
  Result<Address> allocate_now(size_t i, const std::string& ident, Time limit = 60s) {
    return wait(allocate(i, ident), limit);
  }
  // The container goes away: its addresses are freed.
  Result<void> release(size_t i, const std::string& ident) {
    workloads_.erase({i, ident});
    return alloc(i).release(ident);
  }
  // Peer i's host is gone for good: so are its containers.
  void forget_workloads(size_t i) {
    for (auto it = workloads_.begin(); it != workloads_.end();) {
      it = it->first.first == i ? workloads_.erase(it) : std::next(it);
    }
  }

  // --- Inspection.
  // Running peers that can reach each other over the underlay, as groups.
  std::vector<std::vector<size_t>> groups() const {
    std::map<size_t, std::vector<size_t>> by_site;
    std::vector<std::vector<size_t>> out;
    for (size_t i = 0; i < allocators_.size(); ++i) {
      if (!running(i)) continue;
      auto link = peer_link_down_.find(i);
      if (link != peer_link_down_.end() && link->second) {
        out.push_back({i});
        continue;
      }
      const size_t site = sites_[i];
      auto down = site_down_.find(site);
      const bool cut = site != 0 && down != site_down_.end() && down->second;
      by_site[cut ? site : 0].push_back(i);
    }
    for (auto& [site, members] : by_site) out.push_back(members);
    return out;
  }
  InvariantReport check() const {
    InvariantInput in;
    for (size_t i = 0; i < allocators_.size(); ++i) {
      if (running(i)) in.peers.push_back(allocators_[i]->snapshot());
    }
    for (const auto& g : groups()) {
      std::vector<PeerName> names;
      for (size_t i : g) names.push_back(peer_name(i));
      in.groups.push_back(names);
    }
    for (const auto& [key, addr] : workloads_) {
      if (running(key.first))
        in.workloads.push_back(Workload{peer_name(key.first), key.second, addr});
    }
    return check_invariants(in);
  }
  // Every running peer in `peers` holds the same non-empty ring.
  bool rings_agree(const std::vector<size_t>& peers) const {
    const Ring* first = nullptr;
    for (size_t i : peers) {
      if (!running(i)) continue;
      const Ring& r = allocators_[i]->ring();
      if (r.empty()) return false;
      if (!first) {
        first = &r;
      } else if (r.entries() != first->entries() || r.seeds() != first->seeds()) {
        return false;
      }
    }
    return true;
  }
  bool rings_agree() const {
    for (const auto& g : groups()) {
      if (!rings_agree(g)) return false;
    }
    return true;
  }
  template <typename Pred>
  bool run_until(Pred pred, Time limit) {
    return net_.run_until(pred, net_.world().now() + limit).has_value();
  }
  void run_for(Time d) { net_.world().run_for(d); }

  Allocator& alloc(size_t i) { return *allocators_.at(i); }
  const Allocator& alloc(size_t i) const { return *allocators_.at(i); }
  mesh::Mesh& mesh(size_t i) { return net_.mesh(i); }
  mesh::testing::MeshNet& net() { return net_; }
  sim::World& world() { return net_.world(); }
  Host& host(size_t i) { return net_.host(i); }
  size_t size() const { return allocators_.size(); }
  const Cidr& universe() const { return universe_; }
  const std::map<std::pair<size_t, std::string>, Address>& workloads() const { return workloads_; }
  // Log lines (MeshNet's: mesh at info, everything at warn) containing needle.
  size_t count_logged(const std::string& needle) const {
    size_t n = 0;
    for (const auto& l : net_.log()) n += l.find(needle) != std::string::npos ? 1 : 0;
    return n;
  }

 private:
  void make_allocator(size_t i) {
    AllocatorConfig c;
    c.name = peer_name(i);
    c.uid = net_.mesh(i).uid();
    c.nickname = id("peer", i);
    c.universe = universe_;
    c.init = inits_[i];
    views_[i] = std::make_unique<MeshPeerView>(net_.mesh(i));
    allocators_[i] = std::make_unique<Allocator>(net_.host(i), c, *views_[i]);
    allocators_[i]->set_gossip(net_.mesh(i).register_channel(Allocator::kChannel, *allocators_[i]));
    auto ok = allocators_[i]->start();
    EXPECT_TRUE(ok.ok()) << ok.error().message;
  }

  mesh::testing::MeshNet net_;
  Cidr universe_;
  std::vector<InitMode> inits_;
  std::vector<size_t> sites_;
  std::map<size_t, bool> site_down_;
  std::map<size_t, bool> peer_link_down_;
  std::vector<std::unique_ptr<MeshPeerView>> views_;
  std::vector<std::unique_ptr<Allocator>> allocators_;
  std::map<std::pair<size_t, std::string>, Address> workloads_;  // (peer, ident) -> address
  std::vector<std::string> ips_;                                 // each peer's underlay address
};

}  // namespace loom::ipam::testing
