// Topology gossip on a large simulation's hot path: decode and merge of a
// full 1,000-peer update (into an empty state, and the common no-op case of
// a state that already has it), encode_all, and route computation. Each is
// read as a ratio to a reference measured in the same run: copying the
// update's bytes (the floor of touching them), and one breadth-first search
// over a plain adjacency list of the same graph (the floor of a route).
#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/mesh/peers.h"
#include "model/mesh/routes.h"
#include "model/random.h"
#include "tests/bench/ratio_reporter.h"

namespace loom::mesh {
namespace {

constexpr uint64_t kBase = 0x020000000000;
PeerName name(size_t i) { return PeerName(kBase + i); }

Endpoint address(size_t i, size_t j) {
  return Endpoint{Ipv4(0x0a000000u + static_cast<uint32_t>(i)), static_cast<uint16_t>(30000 + j)};
}

// Peer 0's view of an n-peer topology: a full mesh (degree 0), a random
// graph where each peer dials `degree` others, or a chain (degree 1).
Peers topology(size_t n, size_t degree) {
  std::vector<std::vector<size_t>> adj(n);
  auto link = [&](size_t a, size_t b) {
    adj[a].push_back(b);
    adj[b].push_back(a);
  };
  if (degree == 0) {
    for (size_t a = 0; a < n; ++a)
      for (size_t b = a + 1; b < n; ++b) link(a, b);
  } else if (degree == 1) {
    for (size_t a = 0; a + 1 < n; ++a) link(a, a + 1);
  } else {
    Random random(42);
    for (size_t a = 1; a < n; ++a) link(a, random.below(a));  // connected
    for (size_t a = 0; a < n; ++a)
      for (size_t k = 1; k < degree / 2; ++k) {
        const size_t b = random.below(n);
        if (b != a && std::find(adj[a].begin(), adj[a].end(), b) == adj[a].end()) link(a, b);
      }
  }
  // Build every other peer's state, then hand peer 0 their encoded records.
  Peers source(name(0), "peer-0", 1);
  for (size_t b : adj[0]) source.add_connection(name(b), address(b, 0), true, true);
  // References keep peers whose neighbours' records are yet to come from GC.
  for (size_t a = 1; a < n; ++a) source.add_reference(name(a), "", 0);
  for (size_t a = 1; a < n; ++a) {
    Peers p(name(a), "peer-" + std::to_string(a), a + 1, static_cast<ShortID>(a % 4096), true);
    for (size_t b : adj[a]) p.add_connection(name(b), address(b, a), a < b, true);
    auto merged = source.merge(p.encode({name(a)}));
    if (!merged.ok()) std::abort();
  }
  for (size_t a = 1; a < n; ++a) source.drop_reference(name(a));
  return source;
}

const Peers& full_mesh() {
  static const Peers p = topology(1000, 0);
  return p;
}

// --- References -------------------------------------------------------------

void BM_Reference_CopyUpdate(benchmark::State& state) {
  const Bytes update = full_mesh().encode_all();
  for (auto _ : state) {
    Bytes copy = update;
    benchmark::DoNotOptimize(copy.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * update.size()));
}
BENCHMARK(BM_Reference_CopyUpdate)->Unit(benchmark::kMillisecond);

// Hop counts from peer 0 by BFS over vector<vector<uint32_t>>: the least a
// unicast table costs. Arg as BM_Routes.
void BM_Reference_Bfs(benchmark::State& state) {
  const auto degree = static_cast<size_t>(state.range(0));
  const Peers peers = degree == 0 ? Peers(full_mesh()) : topology(1000, degree);
  std::map<PeerName, uint32_t> index;
  for (const Peer& p : peers.all()) index.emplace(p.name, static_cast<uint32_t>(index.size()));
  std::vector<std::vector<uint32_t>> adj(index.size());
  for (const Peer& p : peers.all()) {
    for (const PeerConnection& c : p.connections) {
      if (auto it = index.find(c.remote); it != index.end())
        adj[index[p.name]].push_back(it->second);
    }
  }
  const uint32_t us = index.at(peers.ourselves());
  std::vector<uint32_t> hops(adj.size());
  std::vector<uint32_t> queue;
  queue.reserve(adj.size());
  for (auto _ : state) {
    std::fill(hops.begin(), hops.end(), UINT32_MAX);
    queue.clear();
    hops[us] = 0;
    queue.push_back(us);
    for (size_t head = 0; head < queue.size(); ++head) {
      const uint32_t v = queue[head];
      for (uint32_t w : adj[v]) {
        if (hops[w] != UINT32_MAX) continue;
        hops[w] = hops[v] + 1;
        queue.push_back(w);
      }
    }
    benchmark::DoNotOptimize(hops.data());
  }
}
BENCHMARK(BM_Reference_Bfs)->Arg(0)->Arg(1)->Arg(30)->Unit(benchmark::kMillisecond);

// --- Ours -------------------------------------------------------------------

void BM_MergeFullUpdateIntoEmpty(benchmark::State& state) {
  const Bytes update = full_mesh().encode_all();
  for (auto _ : state) {
    Peers peers(PeerName(1), "fresh", 7);
    peers.add_reference(name(0), "", 0);
    peers.add_connection(name(0), Endpoint{}, true, true);
    auto r = peers.merge(update);
    benchmark::DoNotOptimize(r);
  }
  state.counters["bytes_per_update"] = static_cast<double>(update.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * update.size()));
}
BENCHMARK(BM_MergeFullUpdateIntoEmpty)->Unit(benchmark::kMillisecond);

void BM_MergeFullUpdateNoOp(benchmark::State& state) {
  const Bytes update = full_mesh().encode_all();
  Peers peers(PeerName(1), "fresh", 7);
  peers.add_connection(name(0), Endpoint{}, true, true);
  if (!peers.merge(update).ok()) std::abort();
  for (auto _ : state) {
    auto r = peers.merge(update);
    if (!r->changed.empty()) state.SkipWithError("not a no-op");
    benchmark::DoNotOptimize(r);
  }
  state.counters["bytes_per_update"] = static_cast<double>(update.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * update.size()));
}
BENCHMARK(BM_MergeFullUpdateNoOp)->Unit(benchmark::kMillisecond);

void BM_EncodeAll(benchmark::State& state) {
  const Peers& peers = full_mesh();
  size_t size = 0;
  for (auto _ : state) {
    Bytes b = peers.encode_all();
    size = b.size();
    benchmark::DoNotOptimize(b);
  }
  state.counters["bytes_per_update"] = static_cast<double>(size);
}
BENCHMARK(BM_EncodeAll)->Unit(benchmark::kMillisecond);

// Arg: 0 full mesh, 1 chain, 30 random graph of about that degree.
void BM_Routes(benchmark::State& state) {
  const auto degree = static_cast<size_t>(state.range(0));
  const Peers peers = degree == 0 ? Peers(full_mesh()) : topology(1000, degree);
  size_t edges = 0;
  for (const Peer& p : peers.all()) edges += p.connections.size();
  for (auto _ : state) {
    Routes routes(peers);
    benchmark::DoNotOptimize(routes.broadcast(peers.ourselves()));
  }
  state.counters["connections"] = static_cast<double>(edges);
  state.counters["bytes_per_update"] = static_cast<double>(peers.encode_all().size());
}
BENCHMARK(BM_Routes)->Arg(0)->Arg(1)->Arg(30)->Unit(benchmark::kMillisecond);

// Broadcast next hops for every source (what a busy peer caches).
void BM_BroadcastAllSources(benchmark::State& state) {
  const Peers peers = topology(1000, 30);
  for (auto _ : state) {
    Routes routes(peers);
    for (PeerName src : routes.peers()) benchmark::DoNotOptimize(routes.broadcast(src));
  }
}
BENCHMARK(BM_BroadcastAllSources)->Unit(benchmark::kMillisecond);

// The same over all connections (gossip's broadcast_all), which also builds
// the reverse graph.
void BM_BroadcastAllAllSources(benchmark::State& state) {
  const Peers peers = topology(1000, 30);
  for (auto _ : state) {
    Routes routes(peers);
    for (PeerName src : routes.peers()) benchmark::DoNotOptimize(routes.broadcast_all(src));
  }
}
BENCHMARK(BM_BroadcastAllAllSources)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace loom::mesh

int main(int argc, char** argv) {
  return loom::bench::run_with_ratios(
      argc, argv, "Ratios of CPU time, 1,000 peers",
      {
          {"BM_MergeFullUpdateIntoEmpty", "BM_Reference_CopyUpdate"},
          {"BM_MergeFullUpdateNoOp", "BM_Reference_CopyUpdate"},
          {"BM_EncodeAll", "BM_Reference_CopyUpdate"},
          {"BM_Routes/0", "BM_Reference_Bfs/0"},
          {"BM_Routes/1", "BM_Reference_Bfs/1"},
          {"BM_Routes/30", "BM_Reference_Bfs/30"},
      });
}
