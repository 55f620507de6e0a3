// NetworkPolicy (docs/policy.md): the verdict on a new flow with 10, 100
// and 1,000 policies over 1,000 pods, beside the literal reading of the
// rules (every policy scanned, every selector evaluated: naive_policy.h);
// a conntrack hit beside a new-flow verdict; and re-indexing one relabelled
// pod beside rebuilding the whole index. Ratios at the end.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "model/policy/conntrack.h"
#include "model/policy/policy_engine.h"
#include "tests/bench/ratio_reporter.h"
#include "tests/policy/naive_policy.h"

namespace loom::policy {
namespace {

constexpr int kPods = 1000;
constexpr int kNamespaces = 10;
constexpr int kApps = 20;
const char* const kTiers[] = {"web", "db", "cache"};

// "a7" (g++ 12 misreads `"a" + std::to_string(7)` under -Wrestrict).
std::string numbered(const char* prefix, long n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}

// 1,000 pods in 10 namespaces (team=t0..t4), apps a0..a19, three tiers,
// serving http 80/TCP and dns 53/UDP.
Cluster make_cluster() {
  Cluster c;
  for (int n = 0; n < kNamespaces; ++n)
    c.namespaces[numbered("ns", n)] = {{"team", numbered("t", n % 5)}};
  for (int i = 0; i < kPods; ++i) {
    Pod p;
    p.namespace_name = numbered("ns", i % kNamespaces);
    p.name = numbered("pod", i);
    p.labels = {{"app", numbered("a", (i / kNamespaces) % kApps)}, {"tier", kTiers[i % 3]}};
    p.ip = Ipv4(0x0a000000u + static_cast<uint32_t>(i) + 1);
    p.node = numbered("n", i % 50);
    p.ports = {{"http", 80, Protocol::kTcp}, {"dns", 53, Protocol::kUdp}};
    c.pods.push_back(std::move(p));
  }
  return c;
}

// Policy i selects app a(i % 20) in namespace ns(i / 20 % 10): its ingress
// admits one tier from teams t0-t1 on http, or a /24 ipBlock; every other
// policy also isolates egress, allowing DNS and its own namespace.
std::vector<NetworkPolicy> make_policies(int count) {
  std::vector<NetworkPolicy> out;
  for (int i = 0; i < count; ++i) {
    NetworkPolicy p;
    p.namespace_name = numbered("ns", (i / kApps) % kNamespaces);
    p.name = numbered("p", i);
    p.pod_selector.match_labels = {{"app", numbered("a", i % kApps)}};
    PolicyPeer from_teams;
    from_teams.namespace_selector =
        LabelSelector{{}, {{"team", SelectorOperator::kIn, {"t0", "t1"}}}};
    from_teams.pod_selector = LabelSelector{{{"tier", kTiers[i % 3]}}, {}};
    PolicyPeer block;
    block.ip_block = IpBlock{*IpCidr::parse("10.0.1.0/24"), {*IpCidr::parse("10.0.1.128/25")}};
    PolicyRule ingress;
    ingress.peers = {from_teams, block};
    ingress.ports = {PolicyPort{Protocol::kTcp, std::nullopt, std::nullopt, "http"}};
    p.ingress = {ingress};
    p.isolates_egress = i % 2 == 1;
    if (p.isolates_egress) {
      PolicyRule dns;
      dns.ports = {PolicyPort{Protocol::kUdp, 53, std::nullopt, ""}};
      PolicyRule same_namespace;
      same_namespace.peers = {PolicyPeer{LabelSelector{}, std::nullopt, std::nullopt}};
      p.egress = {dns, same_namespace};
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Random pod-to-pod flows, half to http and half to dns (fixed seed).
std::vector<Flow> make_flows(const Cluster& cluster) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<size_t> pick(0, cluster.pods.size() - 1);
  std::vector<Flow> out;
  for (int i = 0; i < 4096; ++i) {
    const Pod& src = cluster.pods[pick(rng)];
    const Pod& dst = cluster.pods[pick(rng)];
    const bool http = i % 2 == 0;
    out.push_back({src.ip, dst.ip, static_cast<uint8_t>(http ? 6 : 17),
                   static_cast<uint16_t>(32768 + i), static_cast<uint16_t>(http ? 80 : 53)});
  }
  return out;
}

struct Fixture {
  explicit Fixture(int policy_count)
      : cluster(make_cluster()), policies(make_policies(policy_count)), flows(make_flows(cluster)) {
    (void)engine.load(cluster);
    for (const NetworkPolicy& p : policies) engine.set_policy(p);
  }
  Cluster cluster;
  std::vector<NetworkPolicy> policies;
  std::vector<Flow> flows;
  PolicyEngine engine;
};

Fixture& fixture(int policy_count) {
  static std::map<int, std::unique_ptr<Fixture>> fixtures;
  auto& f = fixtures[policy_count];
  if (!f) f = std::make_unique<Fixture>(policy_count);
  return *f;
}

void BM_NewFlowVerdict(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  size_t i = 0;
  int64_t allowed = 0;
  for (auto _ : state) {
    allowed += f.engine.allows(f.flows[i++ % f.flows.size()]) ? 1 : 0;
  }
  benchmark::DoNotOptimize(allowed);
  state.counters["allowed"] =
      benchmark::Counter(static_cast<double>(allowed) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_NewFlowVerdict)->Arg(10)->Arg(100)->Arg(1000);

void BM_Reference_NaiveScan(benchmark::State& state) {
  Fixture& f = fixture(static_cast<int>(state.range(0)));
  const testing::NaivePolicy naive(f.cluster, f.policies);
  size_t i = 0;
  int64_t allowed = 0;
  for (auto _ : state) {
    allowed += naive.allows(f.flows[i++ % f.flows.size()]) ? 1 : 0;
  }
  benchmark::DoNotOptimize(allowed);
  state.counters["allowed"] =
      benchmark::Counter(static_cast<double>(allowed) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_Reference_NaiveScan)->Arg(10)->Arg(100)->Arg(1000);

// An established connection's packets: the replies of 4,096 tracked flows.
void BM_ConntrackHit(benchmark::State& state) {
  Fixture& f = fixture(1000);
  Conntrack ct;
  for (const Flow& flow : f.flows) ct.track(flow, Time(0));
  std::vector<Flow> replies;
  for (const Flow& flow : f.flows) replies.push_back(reply_of(flow));
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ct.lookup(replies[i++ % replies.size()], Time(1)));
  }
}
BENCHMARK(BM_ConntrackHit);

// One pod relabelled (and back) with 1,000 policies in place.
void BM_RelabelPod(benchmark::State& state) {
  Fixture& f = fixture(1000);
  Pod pod = f.cluster.pods[17];
  size_t i = 0;
  for (auto _ : state) {
    pod.labels["app"] = numbered("a", i++ % kApps);
    benchmark::DoNotOptimize(f.engine.set_pod(pod));
  }
  (void)f.engine.set_pod(f.cluster.pods[17]);
}
BENCHMARK(BM_RelabelPod);

void BM_Reference_RebuildIndex(benchmark::State& state) {
  Fixture& f = fixture(1000);
  for (auto _ : state) {
    PolicyEngine engine;
    (void)engine.load(f.cluster);
    for (const NetworkPolicy& p : f.policies) engine.set_policy(p);
    benchmark::DoNotOptimize(engine.status());
  }
}
BENCHMARK(BM_Reference_RebuildIndex);  // ns, like the rest: ratios compare raw times

}  // namespace
}  // namespace loom::policy

int main(int argc, char** argv) {
  // Slow over fast, so that the speed-ups read as whole numbers.
  return loom::bench::run_with_ratios(
      argc, argv, "Ratios of CPU time, slower over faster (policy over 1,000 pods)",
      {
          {"BM_Reference_NaiveScan/10", "BM_NewFlowVerdict/10"},
          {"BM_Reference_NaiveScan/100", "BM_NewFlowVerdict/100"},
          {"BM_Reference_NaiveScan/1000", "BM_NewFlowVerdict/1000"},
          {"BM_NewFlowVerdict/1000", "BM_NewFlowVerdict/10"},
          {"BM_NewFlowVerdict/1000", "BM_ConntrackHit"},
          {"BM_Reference_RebuildIndex", "BM_RelabelPod"},
      });
}
