// The allocator's own cost per operation, on one simulated host with its
// Store in memory: allocate then release one address while K others are in
// use. Every change re-writes the owned-address record (ownedAddresses, as
// Weave re-saves its whole map) and, when a free count changes, the ring.
#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "model/ipam/allocator.h"
#include "sim/world.h"

namespace loom::ipam {
namespace {

class AlonePeer final : public PeerView {
 public:
  bool is_known(mesh::PeerName) const override { return false; }
  size_t target_count() const override { return 0; }
};

void BM_AllocatorAllocateRelease(benchmark::State& state) {
  const auto in_use = static_cast<size_t>(state.range(0));
  sim::World world;
  Host& host = world.host(world.add_host("peer"));
  AllocatorConfig c;
  c.name = mesh::PeerName(1);
  c.uid = 1;
  c.nickname = "peer";
  c.universe = *Cidr::parse("10.32.0.0/12");
  c.init.kind = InitMode::Kind::seed;
  c.init.seed = {c.name};
  AlonePeer view;
  Allocator alloc(host, c, view);
  if (!alloc.start().ok()) state.SkipWithError("start");
  auto allocate = [&](const std::string& ident) {
    bool ok = false;
    alloc.allocate(ident, [&](Result<Address> r) { ok = r.ok(); });
    return ok;
  };
  for (size_t i = 0; i < in_use; ++i) {
    if (!allocate("held" + std::to_string(i))) state.SkipWithError("allocate");
  }
  for (auto _ : state) {
    if (!allocate("c")) state.SkipWithError("allocate");
    if (!alloc.release("c").ok()) state.SkipWithError("release");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * 2));
}
BENCHMARK(BM_AllocatorAllocateRelease)
    ->Arg(1)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace loom::ipam

BENCHMARK_MAIN();
