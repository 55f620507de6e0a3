// The compiled engine against section 6 read literally (NaivePolicy), on
// random clusters and policies (rapidcheck): after every change of a pod,
// its labels, a namespace's labels or a policy, in any order, both give the
// same verdict for every pair of pods, outside addresses and nodes, on
// numbered, named and unserved ports of each protocol.
#include <array>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "model/policy/policy_engine.h"
#include "tests/policy/naive_policy.h"

namespace loom::policy::testing {
namespace {

constexpr Protocol kProtocols[] = {Protocol::kTcp, Protocol::kUdp, Protocol::kSctp};
const char* const kNamespaces[] = {"x", "y", "z"};
const char* const kPortNames[] = {"http", "dns", "metrics"};

template <typename T, size_t N>
const T& pick(const T (&items)[N]) {
  return items[*rc::gen::inRange<size_t>(0, N)];
}

// Labels from a small vocabulary, so that selectors often match.
LabelMap labels() {
  LabelMap out;
  for (const char* key : {"app", "tier", "team"}) {
    if (*rc::gen::inRange(0, 3) == 0) continue;
    out[key] = std::string(1, static_cast<char>('a' + *rc::gen::inRange(0, 3)));
  }
  return out;
}

LabelSelector selector() {
  LabelSelector s;
  const int terms = *rc::gen::inRange(0, 8) == 0 ? 0 : *rc::gen::inRange(1, 3);  // rarely empty
  for (int i = 0; i < terms; ++i) {
    const std::string key = pick<const char*>({"app", "tier", "team"});
    const std::string value(1, static_cast<char>('a' + *rc::gen::inRange(0, 3)));
    switch (*rc::gen::inRange(0, 5)) {
      case 0:
        s.match_labels[key] = value;
        break;
      case 1:
        s.match_expressions.push_back({key, SelectorOperator::kIn, {value, "c"}});
        break;
      case 2:
        s.match_expressions.push_back({key, SelectorOperator::kNotIn, {value}});
        break;
      case 3:
        s.match_expressions.push_back({key, SelectorOperator::kExists, {}});
        break;
      default:
        s.match_expressions.push_back({key, SelectorOperator::kDoesNotExist, {}});
    }
  }
  return s;
}

Ipv4 pod_ip(int i) { return Ipv4::from_octets(10, 0, 0, static_cast<uint8_t>(i + 1)); }

PolicyPeer peer() {
  PolicyPeer p;
  switch (*rc::gen::inRange(0, 4)) {
    case 0: {
      const uint8_t base = static_cast<uint8_t>(*rc::gen::inRange(0, 8) * 4);
      p.ip_block = IpBlock{*IpCidr::parse("10.0.0." + std::to_string(base) + "/29"), {}};
      if (*rc::gen::inRange(0, 2) == 0)
        p.ip_block->except.push_back(*IpCidr::parse("10.0.0." + std::to_string(base + 2) + "/31"));
      break;
    }
    case 1:
      p.pod_selector = selector();
      break;
    case 2:
      p.namespace_selector = selector();
      break;
    default:
      p.pod_selector = selector();
      p.namespace_selector = selector();
  }
  return p;
}

PolicyPort port() {
  PolicyPort p;
  p.protocol = pick(kProtocols);
  switch (*rc::gen::inRange(0, 4)) {
    case 0:
      break;  // every port of the protocol
    case 1:
      p.port = static_cast<uint16_t>(*rc::gen::inRange(80, 84));
      break;
    case 2:
      p.port = static_cast<uint16_t>(*rc::gen::inRange(80, 84));
      p.end_port = static_cast<uint16_t>(*p.port + *rc::gen::inRange(0, 3));
      break;
    default:
      p.port_name = pick(kPortNames);
  }
  return p;
}

std::vector<PolicyRule> rules() {
  std::vector<PolicyRule> out(static_cast<size_t>(*rc::gen::inRange(0, 3)));
  for (PolicyRule& r : out) {
    r.peers.resize(static_cast<size_t>(*rc::gen::inRange(0, 5) == 0 ? 0 : *rc::gen::inRange(1, 3)));
    for (PolicyPeer& p : r.peers) p = peer();
    r.ports.resize(static_cast<size_t>(*rc::gen::inRange(0, 3)));
    for (PolicyPort& p : r.ports) p = port();
  }
  return out;
}

NetworkPolicy policy() {
  NetworkPolicy p;
  p.namespace_name = pick(kNamespaces);
  p.name = "p" + std::to_string(*rc::gen::inRange(0, 6));
  p.pod_selector = selector();
  p.ingress = rules();
  p.egress = rules();
  p.isolates_ingress = *rc::gen::inRange(0, 4) != 0;
  p.isolates_egress = *rc::gen::inRange(0, 2) != 0;
  return p;
}

Pod pod(int i) {
  Pod p;
  p.namespace_name = pick(kNamespaces);
  p.name = "pod" + std::to_string(i);
  p.labels = labels();
  p.ip = pod_ip(i);
  p.node = "n" + std::to_string(i % 2);
  for (int port = 80; port < 84; ++port) {
    if (*rc::gen::inRange(0, 2) == 0) continue;
    const Protocol protocol = pick(kProtocols);
    const bool named = *rc::gen::inRange(0, 2) == 0;
    std::string name = named ? std::string(kPortNames[port - 80 < 3 ? port - 80 : 0]) : "";
    for (const ContainerPort& other : p.ports) {
      if (other.name == name) name.clear();
    }
    p.ports.push_back({name, static_cast<uint16_t>(port), protocol});
  }
  return p;
}

// The mirror the oracle reads, kept equal to what the engine was told.
struct World {
  Cluster cluster;
  std::vector<NetworkPolicy> policies;

  void set_pod(const Pod& p) {
    std::erase_if(cluster.pods, [&](const Pod& q) { return q.ip == p.ip || q.key() == p.key(); });
    cluster.pods.push_back(p);
  }
  void set_policy(const NetworkPolicy& p) {
    std::erase_if(policies, [&](const NetworkPolicy& q) { return q.key() == p.key(); });
    policies.push_back(p);
  }
};

void expect_same_verdicts(const PolicyEngine& engine, const World& world) {
  std::vector<Ipv4> addresses{Ipv4::from_octets(10, 0, 0, 30),  // nobody
                              Ipv4::from_octets(192, 168, 0, 1), Ipv4::from_octets(192, 168, 0, 2)};
  for (const Pod& p : world.cluster.pods) addresses.push_back(p.ip);
  const NaivePolicy naive(world.cluster, world.policies);
  for (Ipv4 src : addresses) {
    for (Ipv4 dst : addresses) {
      for (Protocol protocol : kProtocols) {
        for (uint16_t dst_port = 79; dst_port < 85; ++dst_port) {
          const Flow f{src, dst, static_cast<uint8_t>(protocol), 40000, dst_port};
          RC_ASSERT(engine.allows(f) == naive.allows(f));
          RC_ASSERT(engine.explain(f).allowed == naive.allows(f));
        }
      }
    }
  }
}

TEST(PolicyProperty, CompiledEngineAgreesWithTheLiteralRulesThroughAnyChanges) {
  const bool ok = rc::check("engine == naive after every change", [] {
    PolicyEngine engine;
    World world;
    world.cluster.nodes = {{"n0", Ipv4::from_octets(192, 168, 0, 1)},
                           {"n1", Ipv4::from_octets(192, 168, 0, 2)}};
    for (const auto& [name, address] : world.cluster.nodes) engine.set_node(name, address);
    // A populated start, then changes; the first 12 steps build it.
    constexpr std::array kStart{0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 4, 4, 4, 4, 4};
    const int steps = static_cast<int>(kStart.size()) + *rc::gen::inRange(1, 30);
    for (int step = 0; step < steps; ++step) {
      const int kind = step < static_cast<int>(kStart.size()) ? kStart[static_cast<size_t>(step)]
                                                              : *rc::gen::inRange(0, 6);
      switch (kind) {
        case 0:
        case 1: {  // a pod appears, or changes labels, namespace or ports
          const Pod p = pod(*rc::gen::inRange(0, 8));
          if (const Pod* old = engine.pod_at(p.ip); old != nullptr && old->key() != p.key())
            RC_ASSERT(engine.remove_pod(old->key()));
          RC_ASSERT(engine.set_pod(p).ok());
          world.set_pod(p);
          break;
        }
        case 2: {  // a pod goes
          if (world.cluster.pods.empty()) break;
          const Pod p = world.cluster.pods[*rc::gen::inRange<size_t>(0, world.cluster.pods.size())];
          RC_ASSERT(engine.remove_pod(p.key()));
          std::erase_if(world.cluster.pods, [&](const Pod& q) { return q.key() == p.key(); });
          break;
        }
        case 3: {  // a namespace is (re)labelled
          const std::string ns = pick(kNamespaces);
          const LabelMap l = labels();
          engine.set_namespace(ns, l);
          world.cluster.namespaces[ns] = l;
          break;
        }
        case 4: {  // a policy appears or is replaced
          const NetworkPolicy p = policy();
          engine.set_policy(p);
          world.set_policy(p);
          break;
        }
        default: {  // a policy goes
          if (world.policies.empty()) break;
          const std::string key =
              world.policies[*rc::gen::inRange<size_t>(0, world.policies.size())].key();
          RC_ASSERT(engine.remove_policy(key));
          std::erase_if(world.policies, [&](const NetworkPolicy& q) { return q.key() == key; });
        }
      }
      if (step + 1 >= static_cast<int>(kStart.size())) expect_same_verdicts(engine, world);
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace loom::policy::testing
