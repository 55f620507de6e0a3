// CLUSTER.json (docs/policy.md): what it holds, and each mistake named by
// field and reason.
#include "model/policy/cluster.h"

#include <gtest/gtest.h>

namespace loom::policy {
namespace {

std::string error_of(const std::string& text) {
  auto r = parse_cluster(text);
  return r ? "(accepted)" : r.error().message;
}

TEST(Cluster, ReadsNamespacesNodesAndPods) {
  auto c = parse_cluster(R"({
    "namespaces": {"x": {"labels": {"team": "blue"}}, "y": {}},
    "nodes": {"n1": {"ip": "192.168.0.1"}},
    "pods": [
      {"namespace": "y", "name": "b", "ip": "10.0.0.2"},
      {"namespace": "x", "name": "a", "labels": {"app": "web"}, "ip": "10.0.0.1", "node": "n1",
       "ports": [{"name": "http", "port": 80}, {"port": 53, "protocol": "UDP"}]}]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->namespaces.at("x"), (LabelMap{{"team", "blue"}}));
  EXPECT_EQ(c->nodes.at("n1"), *Ipv4::parse("192.168.0.1"));
  ASSERT_EQ(c->pods.size(), 2u);
  EXPECT_EQ(c->pods[0].key(), "x/a");  // sorted
  const Pod& a = *c->find_pod("x/a");
  EXPECT_EQ(a.node, "n1");
  EXPECT_EQ(a.named_port("http", Protocol::kTcp), 80);  // protocol defaults to TCP
  EXPECT_EQ(a.named_port("http", Protocol::kUdp), std::nullopt);
  EXPECT_EQ(a.ports[1].protocol, Protocol::kUdp);
  EXPECT_EQ(c->find_pod("x/b"), nullptr);
}

TEST(Cluster, RejectsMistakesNamingTheField) {
  const std::string ns = R"("namespaces": {"x": {}}, )";
  EXPECT_EQ(error_of("{}"), "namespaces: required value");
  EXPECT_EQ(error_of("[]"), "expected an object, got an array");
  EXPECT_EQ(error_of("{").rfind("not valid JSON: ", 0), 0u);
  EXPECT_EQ(error_of(R"({"namespaces": {"X": {}}})"),
            "namespaces.X: invalid namespace name: a lowercase RFC 1123 label must consist of "
            "lower case alphanumeric characters or '-', and must start and end with an "
            "alphanumeric character");
  EXPECT_EQ(error_of(R"({"namespaces": {"x": {"lables": {}}}})"),
            "namespaces.x.lables: unknown field");
  EXPECT_EQ(error_of(R"({"namespaces": {"x": {"labels": {"kubernetes.io/metadata.name": "y"}}}})"),
            "namespaces.x.labels.kubernetes.io/metadata.name: Kubernetes sets this label to the "
            "namespace's name, 'x'");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "q", "name": "a", "ip": "10.0.0.1"}]})"),
            "pods[0].namespace: 'q' is not one of the cluster's namespaces");
  EXPECT_EQ(
      error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.300"}]})"),
      "pods[0].ip: '10.0.0.300' is not an IPv4 address");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a"}]})"),
            "pods[0].ip: required value");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1"},
                                       {"namespace": "x", "name": "b", "ip": "10.0.0.1"}]})"),
            "pods[1].ip: 10.0.0.1 is already the address of pod x/a");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1"},
                                       {"namespace": "x", "name": "a", "ip": "10.0.0.2"}]})"),
            "pods[1].name: x/a is listed twice");
  EXPECT_EQ(error_of("{" + ns + R"("nodes": {"n1": {"ip": "10.9.9.9"}},
      "pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1", "node": "n2"}]})"),
            "pods[0].node: 'n2' is not one of the cluster's nodes");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1",
      "ports": [{"port": 70000}]}]})"),
            "pods[0].ports[0].port: must be between 1 and 65535, inclusive");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1",
      "ports": [{"port": 80, "protocol": "ICMP"}]}]})"),
            "pods[0].ports[0].protocol: 'ICMP' is not TCP, UDP or SCTP");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1",
      "ports": [{"name": "web", "port": 80}, {"name": "web", "port": 81}]}]})"),
            "pods[0].ports[1].name: 'web' is already used by another port");
  EXPECT_EQ(error_of("{" + ns + R"("pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1",
      "labels": {"app": 1}}]})"),
            "pods[0].labels.app: expected a string, got a number");
  EXPECT_EQ(error_of(R"({"namespaces": {}, "pods": {}})"),
            "pods: expected an array, got an object");
}

}  // namespace
}  // namespace loom::policy
