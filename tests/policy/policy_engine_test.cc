// What the engine decides beyond the pod-to-pod matrix (conformance_test
// covers that): outside addresses, the pod's own node, a pod to itself,
// ICMP, explanations, one-sided questions, and the index following pods and
// policies as they come and go.
#include "model/policy/policy_engine.h"

#include <gtest/gtest.h>

#include "tests/policy/policy_test_util.h"

namespace loom::policy {
namespace {

using testing::ip;

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
constexpr uint8_t kIcmp = 1;

Flow tcp(const char* from, const char* to, uint16_t port) {
  return {ip(from), ip(to), kTcp, 40000, port};
}

Pod pod(const char* ns, const char* name, const char* address, const char* node, LabelMap labels,
        std::vector<ContainerPort> ports = {{"http", 80, Protocol::kTcp}}) {
  return Pod{ns, name, std::move(labels), ip(address), node, std::move(ports)};
}

// x/a (10.0.0.1, node n1, app=web), x/b (10.0.0.2, n2, app=db), y/c
// (10.0.1.3, n2, app=web); nodes n1 192.168.0.1, n2 192.168.0.2.
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    engine.set_namespace("x", {{"team", "blue"}});
    engine.set_namespace("y", {});
    engine.set_node("n1", ip("192.168.0.1"));
    engine.set_node("n2", ip("192.168.0.2"));
    ASSERT_TRUE(engine.set_pod(pod("x", "a", "10.0.0.1", "n1", {{"app", "web"}})));
    ASSERT_TRUE(engine.set_pod(pod("x", "b", "10.0.0.2", "n2", {{"app", "db"}})));
    ASSERT_TRUE(engine.set_pod(pod("y", "c", "10.0.1.3", "n2", {{"app", "web"}})));
  }

  void apply(const std::string& yaml) { testing::apply_policies(engine, yaml); }

  PolicyEngine engine;
};

const char* kDenyAllX = R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
)";

TEST_F(EngineTest, OwnNodeAlwaysReachesItsPodsAndTheyItButNotOtherNodes) {
  apply(kDenyAllX);
  EXPECT_TRUE(engine.allows(tcp("192.168.0.1", "10.0.0.1", 80)));   // kubelet probing x/a
  EXPECT_FALSE(engine.allows(tcp("192.168.0.2", "10.0.0.1", 80)));  // another node
  EXPECT_TRUE(engine.allows(tcp("10.0.0.2", "192.168.0.2", 10250)));
  EXPECT_FALSE(engine.allows(tcp("10.0.0.2", "192.168.0.1", 10250)));
  const Verdict v = engine.explain(tcp("192.168.0.1", "10.0.0.1", 80));
  EXPECT_EQ(v.ingress.reason, SideVerdict::Reason::kNode);
  EXPECT_EQ(explain_side(v.ingress, Direction::kIngress),
            "traffic between x/a and its own node is always allowed");
}

TEST_F(EngineTest, APodAlwaysReachesItself) {
  apply(kDenyAllX);
  EXPECT_TRUE(engine.allows(tcp("10.0.0.1", "10.0.0.1", 80)));
  EXPECT_EQ(engine.explain(tcp("10.0.0.1", "10.0.0.1", 80)).ingress.reason,
            SideVerdict::Reason::kSamePod);
}

TEST_F(EngineTest, OutsideAddressesAreJudgedByIpBlocksOnly) {
  apply(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: edge, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - namespaceSelector: {}
    - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25]}
  egress:
  - to:
    - ipBlock: {cidr: 0.0.0.0/0}
    ports:
    - port: 443
    - port: http
)");
  EXPECT_TRUE(engine.allows(tcp("203.0.113.5", "10.0.0.1", 80)));
  EXPECT_FALSE(engine.allows(tcp("203.0.113.200", "10.0.0.1", 80)));  // excepted
  EXPECT_FALSE(engine.allows(tcp("198.51.100.1", "10.0.0.1", 80)));
  EXPECT_TRUE(engine.allows(tcp("10.0.1.3", "10.0.0.1", 80)));  // a pod, by namespaceSelector
  EXPECT_TRUE(engine.allows(tcp("10.0.0.1", "198.51.100.1", 443)));
  // A named port never resolves on an outside address; on a pod it does.
  EXPECT_FALSE(engine.allows(tcp("10.0.0.1", "198.51.100.1", 80)));
  EXPECT_TRUE(engine.allows(tcp("10.0.0.1", "10.0.0.2", 80)));
  // Traffic from outside into a pod nobody isolates, or between outsiders.
  EXPECT_TRUE(engine.allows(tcp("198.51.100.1", "10.0.0.2", 5432)));
  const Verdict v = engine.explain(tcp("198.51.100.1", "203.0.113.1", 1));
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.egress.reason, SideVerdict::Reason::kNotAPod);
  EXPECT_EQ(explain_side(v.egress, Direction::kEgress),
            "198.51.100.1 is not a pod of the cluster: no egress policy applies");
}

TEST_F(EngineTest, PortsRulesRefuseIcmpButPortlessRulesAllowIt) {
  apply(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only, namespace: x}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
)");
  EXPECT_FALSE(engine.allows({ip("10.0.1.3"), ip("10.0.0.1"), kIcmp, 7, 0}));
  EXPECT_TRUE(engine.allows({ip("10.0.0.1"), ip("10.0.0.2"), kIcmp, 7, 0}));
  EXPECT_FALSE(engine.allows({ip("10.0.1.3"), ip("10.0.0.2"), kIcmp, 7, 0}));  // y is not x
}

TEST_F(EngineTest, ExplainsWhichPoliciesIsolateAndWhichRuleAllowed) {
  apply(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: z-last, namespace: x}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {matchLabels: {app: nobody}}}]
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]
    ports: [{protocol: UDP}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-first, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress]
)");
  Verdict v = engine.explain({ip("10.0.1.3"), ip("10.0.0.2"), kUdp, 5000, 53});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.ingress.pod, "x/b");
  EXPECT_EQ(v.ingress.policies, (std::vector<std::string>{"x/a-first", "x/z-last"}));
  EXPECT_EQ(v.ingress.allowed_by, "x/z-last");
  EXPECT_EQ(v.ingress.rule, 1u);
  EXPECT_EQ(explain_side(v.ingress, Direction::kIngress), "allowed by x/z-last ingress[1]");
  EXPECT_EQ(v.egress.reason, SideVerdict::Reason::kNotIsolated);
  EXPECT_EQ(explain_side(v.egress, Direction::kEgress), "no policy isolates y/c for egress");

  v = engine.explain(tcp("10.0.1.3", "10.0.0.2", 5432));
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.ingress.reason, SideVerdict::Reason::kNoRule);
  EXPECT_EQ(explain_side(v.ingress, Direction::kIngress),
            "x/b's ingress is isolated by x/a-first, x/z-last and no rule of theirs allows it");
  const auto json = to_json(v);
  EXPECT_EQ(json["allowed"], false);
  EXPECT_EQ(json["ingress"]["policies"].size(), 2u);
  EXPECT_FALSE(json["ingress"].contains("allowed_by"));
  EXPECT_EQ(to_json(engine.explain(
                {ip("10.0.1.3"), ip("10.0.0.2"), kUdp, 5000, 53}))["ingress"]["allowed_by"]["rule"],
            "ingress[1]");
}

TEST_F(EngineTest, OneSidedQuestionsJudgeOneEndOnly) {
  apply(kDenyAllX);
  const Flow out = tcp("10.0.0.1", "10.0.1.3", 80);
  EXPECT_FALSE(engine.allows(out, Direction::kEgress));  // x/a may not send
  EXPECT_TRUE(engine.allows(out, Direction::kIngress));  // y/c would take it
  const Flow in = tcp("10.0.1.3", "10.0.0.1", 80);
  EXPECT_TRUE(engine.allows(in, Direction::kEgress));
  EXPECT_FALSE(engine.allows(in, Direction::kIngress));
}

TEST_F(EngineTest, IndexFollowsPodsLabelsAndPoliciesAsTheyChange) {
  apply(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: blue}}, podSelector: {matchLabels: {app: web}}}]
)");
  const Flow a_to_b = tcp("10.0.0.1", "10.0.0.2", 5432);
  const Flow c_to_b = tcp("10.0.1.3", "10.0.0.2", 5432);
  EXPECT_TRUE(engine.allows(a_to_b));
  EXPECT_FALSE(engine.allows(c_to_b));
  EXPECT_EQ(engine.status().ingress_isolated_pods, 1u);

  engine.set_namespace("y", {{"team", "blue"}});  // namespace relabelled
  EXPECT_TRUE(engine.allows(c_to_b));
  ASSERT_TRUE(engine.set_pod(pod("x", "a", "10.0.0.1", "n1", {{"app", "cache"}})));  // relabelled
  EXPECT_FALSE(engine.allows(a_to_b));

  // A removed pod's address is an outsider; a new pod reusing its slot
  // and address does not inherit its memberships.
  ASSERT_TRUE(engine.remove_pod("y/c"));
  EXPECT_FALSE(engine.allows(c_to_b));
  ASSERT_TRUE(engine.set_pod(pod("y", "d", "10.0.1.3", "n2", {{"app", "other"}})));
  EXPECT_FALSE(engine.allows(c_to_b));
  EXPECT_EQ(engine.pod_at(ip("10.0.1.3"))->key(), "y/d");

  // The target moves out of the selector, then back; the policy goes.
  ASSERT_TRUE(engine.set_pod(pod("x", "b", "10.0.0.2", "n2", {{"app", "db2"}})));
  EXPECT_TRUE(engine.allows(c_to_b));
  ASSERT_TRUE(engine.set_pod(pod("x", "b", "10.0.0.2", "n2", {{"app", "db"}})));
  EXPECT_FALSE(engine.allows(c_to_b));
  EXPECT_TRUE(engine.remove_policy("x/db-from-web"));
  EXPECT_FALSE(engine.remove_policy("x/db-from-web"));
  EXPECT_TRUE(engine.allows(c_to_b));
  EXPECT_EQ(engine.status().ingress_isolated_pods, 0u);
}

TEST_F(EngineTest, ASamePolicyNameReplacesTheOldPolicy) {
  apply(kDenyAllX);
  EXPECT_FALSE(engine.allows(tcp("10.0.1.3", "10.0.0.1", 80)));
  apply(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: x}
spec:
  podSelector: {matchLabels: {app: db}}
)");
  EXPECT_TRUE(engine.allows(tcp("10.0.1.3", "10.0.0.1", 80)));
  EXPECT_FALSE(engine.allows(tcp("10.0.1.3", "10.0.0.2", 80)));
  EXPECT_EQ(engine.status().policies, 1u);
}

TEST_F(EngineTest, AnAddressHeldByAnotherPodIsRefused) {
  auto r = engine.set_pod(pod("y", "dup", "10.0.0.1", "n1", {}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "y/dup: 10.0.0.1 is already the address of x/a");
  // Moving a pod to a free address is fine, and frees the old one.
  ASSERT_TRUE(engine.set_pod(pod("x", "a", "10.0.0.9", "n1", {{"app", "web"}})));
  EXPECT_EQ(engine.pod_at(ip("10.0.0.1")), nullptr);
  EXPECT_EQ(engine.pod_at(ip("10.0.0.9"))->key(), "x/a");
}

TEST_F(EngineTest, NodesLearntAfterTheirPodsStillCount) {
  apply(kDenyAllX);
  ASSERT_TRUE(engine.set_pod(pod("x", "e", "10.0.0.5", "n3", {})));
  EXPECT_FALSE(engine.allows(tcp("192.168.0.3", "10.0.0.5", 80)));
  engine.set_node("n3", ip("192.168.0.3"));
  EXPECT_TRUE(engine.allows(tcp("192.168.0.3", "10.0.0.5", 80)));
  EXPECT_EQ(engine.status().nodes, 3u);
}

}  // namespace
}  // namespace loom::policy
