// Manifests as kubectl and the API server take them: what is accepted and
// how it is defaulted, and each rejection naming the document, the object,
// the field and the reason.
#include "model/policy/policy_parser.h"

#include <gtest/gtest.h>

namespace loom::policy {
namespace {

// A NetworkPolicy x/p whose spec is `spec` (YAML, indented by two).
std::string with_spec(const std::string& spec) {
  return "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
         "metadata:\n  name: p\n  namespace: x\nspec:\n" +
         spec;
}

NetworkPolicy parse_one(const std::string& text) {
  auto r = parse_policies(text);
  EXPECT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
  return r->empty() ? NetworkPolicy{} : r->front();
}

std::string error_of(const std::string& text) {
  auto r = parse_policies(text);
  return r ? "(accepted)" : r.error().message;
}

struct Rejection {
  const char* spec;
  const char* error;
};

class Rejected : public ::testing::TestWithParam<Rejection> {};

TEST_P(Rejected, NamesObjectFieldAndReason) {
  EXPECT_EQ(error_of(with_spec(GetParam().spec)),
            std::string("NetworkPolicy x/p: ") + GetParam().error);
}

// The API server's validation (pkg/apis/networking/validation), one case each.
INSTANTIATE_TEST_SUITE_P(
    Validation, Rejected,
    ::testing::Values(
        Rejection{
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      podSelector: {}\n",
            "spec.ingress[0].from[0]: may not specify both ipBlock and another peer"},
        Rejection{
            "  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/8}\n      namespaceSelector: {}\n",
            "spec.egress[0].to[0]: may not specify both ipBlock and another peer"},
        Rejection{"  ingress:\n  - from:\n    - {}\n",
                  "spec.ingress[0].from[0]: must specify a peer"},
        Rejection{
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}\n",
            "spec.ingress[0].from[0].ipBlock.except[0]: '10.1.0.0/24' must be a strict "
            "subset of `cidr`"},
        Rejection{
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}\n",
            "spec.ingress[0].from[0].ipBlock.except[0]: '10.0.0.0/16' must be a strict "
            "subset of `cidr`"},
        Rejection{
            "  ingress:\n  - from:\n    - ipBlock: {cidr: 10.0.0.0/8, except: ['fd00::/64']}\n",
            "spec.ingress[0].from[0].ipBlock.except[0]: 'fd00::/64' must be a strict "
            "subset of `cidr`"},
        Rejection{"  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0/33}\n",
                  "spec.egress[0].to[0].ipBlock.cidr: invalid CIDR address: 10.0.0.0/33"},
        Rejection{"  egress:\n  - to:\n    - ipBlock: {cidr: 10.0.0.0}\n",
                  "spec.egress[0].to[0].ipBlock.cidr: invalid CIDR address: 10.0.0.0"},
        Rejection{"  egress:\n  - to:\n    - ipBlock: {except: [10.0.0.0/24]}\n",
                  "spec.egress[0].to[0].ipBlock.cidr: required value"},
        Rejection{"  ingress:\n  - ports:\n    - endPort: 90\n",
                  "spec.ingress[0].ports[0].endPort: may not be specified when `port` is not "
                  "specified"},
        Rejection{"  ingress:\n  - ports:\n    - {port: http, endPort: 90}\n",
                  "spec.ingress[0].ports[0].endPort: may not be specified when `port` is "
                  "non-numeric"},
        Rejection{"  ingress:\n  - ports:\n    - {port: 90, endPort: 80}\n",
                  "spec.ingress[0].ports[0].endPort: must be greater than or equal to `port`"},
        Rejection{"  ingress:\n  - ports:\n    - {port: 0}\n",
                  "spec.ingress[0].ports[0].port: 0: must be between 1 and 65535, inclusive"},
        Rejection{"  ingress:\n  - ports:\n    - {port: 80, endPort: 65536}\n",
                  "spec.ingress[0].ports[0].endPort: 65536: must be between 1 and 65535, "
                  "inclusive"},
        Rejection{"  ingress:\n  - ports:\n    - {port: '80'}\n",
                  "spec.ingress[0].ports[0].port: invalid port name '80': must contain at least "
                  "one letter (a-z)"},
        Rejection{"  ingress:\n  - ports:\n    - {port: HTTP}\n",
                  "spec.ingress[0].ports[0].port: invalid port name 'HTTP': must contain only "
                  "alpha-numeric characters (a-z, 0-9), and hyphens (-)"},
        Rejection{"  ingress:\n  - ports:\n    - {port: a-very-long-port-name}\n",
                  "spec.ingress[0].ports[0].port: invalid port name 'a-very-long-port-name': "
                  "must be no more than 15 characters"},
        Rejection{"  ingress:\n  - ports:\n    - {protocol: ICMP}\n",
                  "spec.ingress[0].ports[0].protocol: unsupported value 'ICMP': supported "
                  "values: \"SCTP\", \"TCP\", \"UDP\""},
        Rejection{"  ingress:\n  - ports:\n    - {protocol: tcp}\n",
                  "spec.ingress[0].ports[0].protocol: unsupported value 'tcp': supported "
                  "values: \"SCTP\", \"TCP\", \"UDP\""},
        Rejection{"  policyTypes: [Ingres]\n",
                  "spec.policyTypes[0]: unsupported value 'Ingres': supported values: "
                  "\"Ingress\", \"Egress\""},
        Rejection{"  policyTypes: [Ingress, Egress, Ingress]\n",
                  "spec.policyTypes: may not have more than 2 items"},
        Rejection{
            "  podSelector:\n    matchExpressions:\n    - {key: app, operator: in, values: [a]}\n",
            "spec.podSelector.matchExpressions[0].operator: 'in' is not a valid selector "
            "operator"},
        Rejection{"  podSelector:\n    matchExpressions:\n    - {key: app, operator: In}\n",
                  "spec.podSelector.matchExpressions[0].values: must be specified when "
                  "`operator` is 'In' or 'NotIn'"},
        Rejection{"  podSelector:\n    matchExpressions:\n    - {key: app, operator: Exists, "
                  "values: [a]}\n",
                  "spec.podSelector.matchExpressions[0].values: may not be specified when "
                  "`operator` is 'Exists' or 'DoesNotExist'"},
        Rejection{"  podSelector:\n    matchLabels: {-app: web}\n",
                  "spec.podSelector.matchLabels.-app: invalid label key: name part must consist "
                  "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                  "alphanumeric character"},
        Rejection{"  podSelector:\n    matchLabels: {app: 1}\n",
                  "spec.podSelector.matchLabels.app: expected a string, got a number"},
        Rejection{"  podSelector:\n    matchLabels: {enabled: yes}\n",
                  "spec.podSelector.matchLabels.enabled: expected a string, got a boolean"},
        Rejection{"  podSelector:\n    matchLabels: {app: web_}\n",
                  "spec.podSelector.matchLabels.app: invalid label value 'web_': a valid label "
                  "must be an empty string or consist of alphanumeric characters, '-', '_' or "
                  "'.', and must start and end with an alphanumeric character"},
        Rejection{"  podselector: {}\n", "spec.podselector: unknown field"},
        Rejection{"  ingress:\n  - from: []\n    to: []\n", "spec.ingress[0].to: unknown field"},
        Rejection{"  ingress: {from: []}\n", "spec.ingress: expected an array, got an object"}));

TEST(PolicyParser, RejectsBadObjects) {
  EXPECT_EQ(error_of("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {}\n"),
            "NetworkPolicy: metadata.name: required value");
  EXPECT_EQ(
      error_of("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: Web}\n"),
      "NetworkPolicy default/Web: metadata.name: invalid name 'Web': a lowercase RFC 1123 "
      "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
      "start and end with an alphanumeric character");
  EXPECT_EQ(error_of("apiVersion: extensions/v1beta1\nkind: NetworkPolicy\nmetadata: {name: p}\n"),
            "NetworkPolicy default/p: apiVersion: 'extensions/v1beta1' is not "
            "networking.k8s.io/v1");
  EXPECT_EQ(error_of("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p}\n"),
            "kind: 'Deployment' is not NetworkPolicy (or a List of them)");
  EXPECT_EQ(error_of("apiVersion: networking.k8s.io/v1\nmetadata: {name: p}\n"),
            "kind: required value (NetworkPolicy or List)");
  EXPECT_EQ(error_of("- 1\n"), "expected an object, got an array");
}

TEST(PolicyParser, SyntaxErrorsSayWhere) {
  EXPECT_EQ(error_of("kind: NetworkPolicy\nmetadata:\n  name: [p\n"),
            "not valid YAML: line 4, column 1: end of sequence flow not found");
  EXPECT_EQ(error_of("kind: NetworkPolicy\nkind: List\n"),
            "not valid YAML: line 2, column 1: key \"kind\" already set in map");
  EXPECT_NE(error_of("{\"kind\": \"NetworkPolicy\",}").find("not valid JSON: "), std::string::npos);
}

TEST(PolicyParser, ErrorsNameTheDocumentOrListItem) {
  const std::string good = with_spec("  podSelector: {}\n");
  const std::string bad = with_spec("  ingress:\n  - from: [{}]\n");
  EXPECT_EQ(error_of(good + "---\n" + bad),
            "document 2: NetworkPolicy x/p: spec.ingress[0].from[0]: must specify a peer");
  EXPECT_EQ(error_of(R"({"apiVersion": "v1", "kind": "List", "items": [
      {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
       "metadata": {"name": "a", "namespace": "x"}},
      {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
       "metadata": {"name": "b", "namespace": "x"}, "spec": {"policyTypes": ["Both"]}}]})"),
            "items[1]: NetworkPolicy x/b: spec.policyTypes[0]: unsupported value 'Both': "
            "supported values: \"Ingress\", \"Egress\"");
  EXPECT_EQ(error_of(R"({"apiVersion": "v1", "kind": "List", "items": [{"kind": "Pod"}]})"),
            "items[0]: kind: 'Pod' is not NetworkPolicy");
}

TEST(PolicyParser, PolicyTypesAreDefaultedAsTheApiServerDoes) {
  // No policyTypes, no egress rules: Ingress only.
  NetworkPolicy p = parse_one(with_spec("  podSelector: {}\n"));
  EXPECT_TRUE(p.isolates_ingress);
  EXPECT_FALSE(p.isolates_egress);
  // Egress rules and no policyTypes: Ingress too.
  p = parse_one(with_spec("  egress:\n  - {}\n"));
  EXPECT_TRUE(p.isolates_ingress);
  EXPECT_TRUE(p.isolates_egress);
  // An empty egress list adds nothing; an empty policyTypes is defaulted.
  p = parse_one(with_spec("  egress: []\n  policyTypes: []\n"));
  EXPECT_TRUE(p.isolates_ingress);
  EXPECT_FALSE(p.isolates_egress);
  // Stated: as stated, even with rules of the other direction.
  p = parse_one(with_spec("  ingress:\n  - {}\n  policyTypes: [Egress]\n"));
  EXPECT_FALSE(p.isolates_ingress);
  EXPECT_TRUE(p.isolates_egress);
  // No spec at all: deny all ingress of the namespace's pods.
  p = parse_one("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\n");
  EXPECT_EQ(p.key(), "default/p");
  EXPECT_TRUE(p.pod_selector.empty());
  EXPECT_TRUE(p.isolates_ingress);
  EXPECT_FALSE(p.isolates_egress);
}

TEST(PolicyParser, ReadsEveryField) {
  NetworkPolicy p = parse_one(with_spec(R"(  podSelector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: NotIn, values: [cache, db]}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: blue}}
      podSelector: {}
    - ipBlock:
        cidr: 10.0.0.1/16
        except: [10.0.1.0/24]
    ports:
    - {}
    - {protocol: UDP, port: 53}
    - {port: 8000, endPort: 8080, protocol: SCTP}
    - {port: http}
  egress: null
)"));
  EXPECT_EQ(p.pod_selector.match_labels, (LabelMap{{"app", "web"}}));
  ASSERT_EQ(p.pod_selector.match_expressions.size(), 1u);
  EXPECT_EQ(p.pod_selector.match_expressions[0].op, SelectorOperator::kNotIn);
  EXPECT_EQ(p.pod_selector.match_expressions[0].values, (std::vector<std::string>{"cache", "db"}));
  ASSERT_EQ(p.ingress.size(), 1u);
  const PolicyRule& rule = p.ingress[0];
  ASSERT_EQ(rule.peers.size(), 2u);
  ASSERT_TRUE(rule.peers[0].namespace_selector && rule.peers[0].pod_selector);
  EXPECT_TRUE(rule.peers[0].pod_selector->empty());
  ASSERT_TRUE(rule.peers[1].ip_block);
  EXPECT_EQ(rule.peers[1].ip_block->cidr.to_string(), "10.0.0.0/16");  // host bits dropped
  EXPECT_TRUE(rule.peers[1].ip_block->contains(*Ipv4::parse("10.0.2.1")));
  EXPECT_FALSE(rule.peers[1].ip_block->contains(*Ipv4::parse("10.0.1.9")));
  ASSERT_EQ(rule.ports.size(), 4u);
  EXPECT_EQ(rule.ports[0].protocol, Protocol::kTcp);  // the default
  EXPECT_FALSE(rule.ports[0].port);
  EXPECT_EQ(rule.ports[1].protocol, Protocol::kUdp);
  EXPECT_EQ(rule.ports[1].port, 53);
  EXPECT_EQ(rule.ports[2].protocol, Protocol::kSctp);
  EXPECT_EQ(rule.ports[2].end_port, 8080);
  EXPECT_EQ(rule.ports[3].port_name, "http");
  EXPECT_TRUE(p.egress.empty());
}

TEST(PolicyParser, ReadsStreamsListsAndJson) {
  const std::string one = with_spec("  podSelector: {}\n");
  auto r = parse_policies("# comments and empty documents are skipped\n---\n" + one + "---\n---\n" +
                          one);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 2u);

  r = parse_policies(R"({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicyList",
      "items": [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                 "metadata": {"name": "a", "namespace": "x", "uid": "1234"},
                 "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}]})");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->front().key(), "x/a");
  EXPECT_TRUE(r->front().isolates_egress);

  // A List in YAML, as `kubectl get networkpolicy -o yaml` prints one.
  r = parse_policies(
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: networking.k8s.io/v1\n"
      "  kind: NetworkPolicy\n  metadata: {name: a}\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->size(), 1u);
}

TEST(PolicyParser, AcceptsIpv6BlocksThatMatchNoIpv4Address) {
  NetworkPolicy p = parse_one(with_spec(
      "  ingress:\n  - from:\n    - ipBlock: {cidr: 'fd00::/8', except: ['fd00:1::/32']}\n"));
  const IpBlock& block = *p.ingress[0].peers[0].ip_block;
  EXPECT_TRUE(block.cidr.is_ipv6());
  EXPECT_FALSE(block.contains(*Ipv4::parse("10.0.0.1")));
}

}  // namespace
}  // namespace loom::policy
