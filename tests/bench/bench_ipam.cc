// IPAM on a large network's hot paths: merging a ring of 10,000 entries
// (identical, and differing in about 1% of entries), its encoding both ways,
// and allocation in a /12 Space.
//
// Each group has a Reference_ benchmark, so a run can be read as ratios in
// one invocation: copying the ring (what any merge that changes it costs at
// least), and a std::set of addresses (the obvious allocator).
#include <set>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/ipam/codec.h"
#include "model/ipam/ring.h"
#include "model/ipam/space.h"
#include "model/random.h"

namespace loom::ipam {
namespace {

constexpr size_t kEntries = 10000;
constexpr size_t kPeers = 500;
constexpr Count kSpacing = 100;  // 10,000 x 100 addresses fill most of a /12

const Range& universe() {
  static const Range u = parse_allocation_range("10.32.0.0/12")->range();
  return u;
}

PeerName peer(size_t i) { return PeerName(0x020000000000 + i); }

// A converged 10,000-entry ring as peer 0 sees it; entry i is owned by peer
// i % kPeers.
std::vector<Entry> base_entries() {
  Random random(7);
  std::vector<Entry> entries;
  entries.reserve(kEntries);
  for (size_t i = 0; i < kEntries; ++i) {
    entries.push_back(Entry{universe().start + static_cast<Address>(i) * kSpacing, peer(i % kPeers),
                            static_cast<uint32_t>(random.below(50)),
                            static_cast<Count>(random.below(kSpacing))});
  }
  return entries;
}

std::vector<PeerName> seeds() { return {peer(0), peer(1), peer(2)}; }

const Ring& ours() {
  static const Ring r = Ring::from_parts(universe(), peer(0), base_entries(), seeds());
  return r;
}

// The same ring after 1% of the entries, none of them ours, got newer
// versions (their owners reported free space).
const Ring& theirs_one_percent_newer() {
  static const Ring r = [] {
    std::vector<Entry> e = base_entries();
    for (size_t i = 1; i < e.size(); i += 100) {
      e[i].version += 1;
      e[i].free = e[i].free / 2;
    }
    return Ring::from_parts(universe(), peer(1), std::move(e), seeds());
  }();
  return r;
}

bool no_allocations(const std::vector<Range>&) { return false; }

void BM_Reference_CopyRing(benchmark::State& state) {
  for (auto _ : state) {
    Ring copy = ours();
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_Reference_CopyRing)->Unit(benchmark::kMicrosecond);

void BM_RingMerge_Identical(benchmark::State& state) {
  Ring r = ours();
  const Ring& other = ours();
  for (auto _ : state) {
    auto changed = r.merge(other, no_allocations);
    if (!changed.ok() || *changed) state.SkipWithError("identical merge changed something");
    benchmark::DoNotOptimize(changed);
  }
  state.counters["entries"] = static_cast<double>(kEntries);
}
BENCHMARK(BM_RingMerge_Identical)->Unit(benchmark::kMicrosecond);

// Includes one copy of our ring per iteration (BM_Reference_CopyRing).
void BM_RingMerge_OnePercentNewer(benchmark::State& state) {
  const Ring& other = theirs_one_percent_newer();
  for (auto _ : state) {
    Ring r = ours();
    auto changed = r.merge(other, no_allocations);
    if (!changed.ok() || !*changed) state.SkipWithError("merge learnt nothing");
    benchmark::DoNotOptimize(r);
  }
  state.counters["entries"] = static_cast<double>(kEntries);
}
BENCHMARK(BM_RingMerge_OnePercentNewer)->Unit(benchmark::kMicrosecond);

void BM_RingEncode(benchmark::State& state) {
  size_t size = 0;
  for (auto _ : state) {
    Bytes b = encode_ring(ours());
    size = b.size();
    benchmark::DoNotOptimize(b);
  }
  state.counters["bytes"] = static_cast<double>(size);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}
BENCHMARK(BM_RingEncode)->Unit(benchmark::kMicrosecond);

void BM_RingDecode(benchmark::State& state) {
  const Bytes b = encode_ring(ours());
  for (auto _ : state) {
    auto r = decode_ring(b);
    if (!r.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(r);
  }
  state.counters["bytes"] = static_cast<double>(b.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.size()));
}
BENCHMARK(BM_RingDecode)->Unit(benchmark::kMicrosecond);

// A /12 with `arg` addresses in use at random places (fragmented), then one
// allocation of the lowest free address and one free per iteration.
Space fragmented_space(size_t in_use, std::vector<Address>* used) {
  Space s;
  s.add(universe());
  Random random(3);
  while (s.num_allocated() < in_use) {
    const Address a = universe().start + static_cast<Address>(random.below(universe().size()));
    if (s.claim(a).ok()) used->push_back(a);
  }
  return s;
}

void BM_SpaceAllocateFree(benchmark::State& state) {
  std::vector<Address> used;
  Space s = fragmented_space(static_cast<size_t>(state.range(0)), &used);
  Random random(5);
  for (auto _ : state) {
    // Free a random address in use, then allocate the lowest free one.
    const size_t k = random.below(used.size());
    if (!s.free(used[k]).ok()) state.SkipWithError("free failed");
    const auto a = s.allocate(universe());
    if (!a) state.SkipWithError("allocate failed");
    used[k] = *a;
  }
  state.counters["free_intervals"] = static_cast<double>(s.free_space().interval_count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SpaceAllocateFree)->Arg(1)->Arg(10000)->Arg(500000)->Unit(benchmark::kNanosecond);

// The per-address alternative: every free address of the /12 in a
// std::set (a million nodes, some 40 MB). Same workload as above.
void BM_Reference_PerAddressFreeSet(benchmark::State& state) {
  std::set<Address> free;
  for (Address a = universe().start; a < universe().end; ++a) free.insert(free.end(), a);
  std::vector<Address> used;
  Random random(3);
  while (used.size() < static_cast<size_t>(state.range(0))) {
    const Address a = universe().start + static_cast<Address>(random.below(universe().size()));
    if (free.erase(a) == 1) used.push_back(a);
  }
  Random pick(5);
  for (auto _ : state) {
    const size_t k = pick.below(used.size());
    free.insert(used[k]);
    used[k] = *free.begin();
    free.erase(free.begin());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Reference_PerAddressFreeSet)
    ->Arg(1)
    ->Arg(10000)
    ->Arg(500000)
    ->Unit(benchmark::kNanosecond);

// A peer filling its whole /12 one address at a time, then emptying it.
void BM_SpaceFillAndEmpty(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    Space s;
    s.add(universe());
    for (size_t i = 0; i < n; ++i) benchmark::DoNotOptimize(s.allocate(universe()));
    for (size_t i = 0; i < n; ++i) {
      if (!s.free(universe().start + static_cast<Address>(i)).ok()) state.SkipWithError("free");
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n * 2));
}
BENCHMARK(BM_SpaceFillAndEmpty)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace loom::ipam

BENCHMARK_MAIN();
