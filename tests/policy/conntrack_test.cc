// Stateful policy (netpol-semantics.md rule 20): replies of an allowed
// connection pass, in both directions and for UDP; a new connection the
// other way is judged on its own; idle connections expire on the time the
// caller passes in.
#include "model/policy/conntrack.h"

#include <gtest/gtest.h>

#include "model/policy/stateful_policy.h"
#include "tests/policy/policy_test_util.h"

namespace loom::policy {
namespace {

using namespace std::chrono_literals;
using testing::apply_policies;
using testing::ip;

const Ipv4 kA = ip("10.0.0.1");  // x/a: admits nothing (ingress isolated)
const Ipv4 kB = ip("10.0.0.2");  // x/b: admits x/a only; sends nowhere but x/a

// x/a may open connections to x/b; nothing may open one to x/a, and x/b
// may open none (its egress is isolated, with a rule to the DNS only).
class StatefulTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(engine.set_pod({"x", "a", {{"app", "a"}}, kA, "n1", {}}));
    ASSERT_TRUE(engine.set_pod({"x", "b", {{"app", "b"}}, kB, "n2", {}}));
    apply_policies(engine, R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-closed, namespace: x}
spec:
  podSelector: {matchLabels: {app: a}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: b-from-a, namespace: x}
spec:
  podSelector: {matchLabels: {app: b}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: a}}}]
  egress:
  - to: [{ipBlock: {cidr: 10.96.0.10/32}}]
)");
  }

  PolicyEngine engine;
  StatefulPolicy stateful{engine};
};

TEST_F(StatefulTest, RepliesOfAnAllowedConnectionPassBothWays) {
  const Flow syn{kA, kB, 6, 40000, 5432};
  const Flow reply = reply_of(syn);
  EXPECT_EQ(reply, (Flow{kB, kA, 6, 5432, 40000}));
  EXPECT_FALSE(engine.allows(reply));  // on its own, the reply would be refused
  EXPECT_TRUE(stateful.admit(syn, 0s));
  EXPECT_TRUE(stateful.admit(reply, 1ms));
  EXPECT_TRUE(stateful.admit(syn, 2ms));
  EXPECT_EQ(stateful.conntrack().size(), 1u);
}

TEST_F(StatefulTest, ANewConnectionTheOtherWayIsJudgedAlone) {
  EXPECT_TRUE(stateful.admit({kA, kB, 6, 40000, 5432}, 0s));
  EXPECT_FALSE(stateful.admit({kB, kA, 6, 40001, 5432}, 1ms));   // other ports: new
  EXPECT_FALSE(stateful.admit({kB, kA, 17, 5432, 40000}, 1ms));  // other protocol: new
  EXPECT_FALSE(stateful.admit({kB, ip("10.0.0.3"), 6, 5432, 40000}, 1ms));
  EXPECT_EQ(stateful.conntrack().size(), 1u);  // refused connections are not tracked
}

TEST_F(StatefulTest, UdpFlowsAreTrackedAndExpire) {
  const Flow query{kA, kB, 17, 40000, 53};
  EXPECT_TRUE(stateful.admit(query, 0s));
  EXPECT_TRUE(stateful.admit(reply_of(query), 29s));  // a reply: now a stream (120 s)
  EXPECT_TRUE(stateful.admit(reply_of(query), 29s + 119s));
  // Idle past 120 s: the next reply is a new connection, and refused.
  EXPECT_FALSE(stateful.admit(reply_of(query), 29s + 119s + 121s));
  EXPECT_EQ(stateful.conntrack().size(), 0u);
}

TEST(Conntrack, UnrepliedUdpExpiresAfter30Seconds) {
  Conntrack ct;
  const Flow f{ip("10.0.0.1"), ip("10.0.0.2"), 17, 1000, 53};
  ct.track(f, 0s);
  EXPECT_EQ(ct.lookup(f, 30s), Conntrack::Match::kOriginal);  // refreshed at 30 s
  EXPECT_EQ(ct.lookup(f, 60s), Conntrack::Match::kOriginal);
  EXPECT_EQ(ct.lookup(reply_of(f), 91s), Conntrack::Match::kNone);
}

TEST(Conntrack, TcpLivesFiveDaysIdleAndSweepsDropTheDead) {
  Conntrack ct;
  const Flow tcp{ip("10.0.0.1"), ip("10.0.0.2"), 6, 1000, 80};
  const Flow udp{ip("10.0.0.1"), ip("10.0.0.2"), 17, 1000, 53};
  const Flow sctp{ip("10.0.0.1"), ip("10.0.0.2"), 132, 1000, 80};
  ct.track(tcp, 0s);
  ct.track(udp, 0s);
  ct.track(sctp, 0s);
  EXPECT_EQ(ct.expire(30s), 0u);
  EXPECT_EQ(ct.expire(31s), 1u);   // UDP
  EXPECT_EQ(ct.expire(211s), 1u);  // SCTP
  EXPECT_EQ(ct.lookup(reply_of(tcp), 432000s), Conntrack::Match::kReply);
  EXPECT_EQ(ct.expire(2 * 432000s + 1s), 1u);
  EXPECT_EQ(ct.size(), 0u);
}

TEST(Conntrack, IcmpEchoRepliesKeepTheIdentifier) {
  Conntrack ct;
  const Flow echo{ip("10.0.0.1"), ip("10.0.0.2"), 1, 77, 0};  // identifier 77
  ct.track(echo, 0s);
  EXPECT_EQ(ct.lookup({ip("10.0.0.2"), ip("10.0.0.1"), 1, 77, 0}, 1s), Conntrack::Match::kReply);
  EXPECT_EQ(ct.lookup({ip("10.0.0.2"), ip("10.0.0.1"), 1, 78, 0}, 1s), Conntrack::Match::kNone);
  EXPECT_EQ(ct.lookup(echo, 31s), Conntrack::Match::kOriginal);
  EXPECT_EQ(ct.lookup(echo, 62s), Conntrack::Match::kNone);
}

TEST(Conntrack, TimeoutsAreConfigurable) {
  ConntrackTimeouts t;
  t.tcp = 10s;
  Conntrack ct(t);
  const Flow f{ip("10.0.0.1"), ip("10.0.0.2"), 6, 1000, 80};
  ct.track(f, 0s);
  EXPECT_EQ(ct.lookup(f, 11s), Conntrack::Match::kNone);
}

}  // namespace
}  // namespace loom::policy
