// Label selectors as Kubernetes matches them (netpol-semantics.md rule 3).
#include "model/policy/labels.h"

#include <gtest/gtest.h>

namespace loom::policy {
namespace {

TEST(LabelSelector, EmptyMatchesEverything) {
  EXPECT_TRUE(LabelSelector{}.matches({}));
  EXPECT_TRUE(LabelSelector{}.matches({{"app", "web"}}));
}

TEST(LabelSelector, MatchLabelsAndExpressionsAreAnded) {
  LabelSelector s;
  s.match_labels = {{"app", "web"}};
  s.match_expressions = {{"tier", SelectorOperator::kIn, {"front", "back"}}};
  EXPECT_TRUE(s.matches({{"app", "web"}, {"tier", "front"}, {"x", "y"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}}));
  EXPECT_FALSE(s.matches({{"app", "db"}, {"tier", "front"}}));
  EXPECT_FALSE(s.matches({{"app", "web"}, {"tier", "middle"}}));
}

TEST(LabelSelector, OperatorsTreatAbsentKeysAsKubernetesDoes) {
  const LabelMap with{{"env", "prod"}};
  const LabelMap other{{"env", "dev"}};
  const LabelMap without{{"app", "web"}};
  const SelectorRequirement in{"env", SelectorOperator::kIn, {"prod"}};
  const SelectorRequirement not_in{"env", SelectorOperator::kNotIn, {"prod"}};
  const SelectorRequirement exists{"env", SelectorOperator::kExists, {}};
  const SelectorRequirement absent{"env", SelectorOperator::kDoesNotExist, {}};
  EXPECT_TRUE(in.matches(with));
  EXPECT_FALSE(in.matches(other));
  EXPECT_FALSE(in.matches(without));  // In needs the key
  EXPECT_FALSE(not_in.matches(with));
  EXPECT_TRUE(not_in.matches(other));
  EXPECT_TRUE(not_in.matches(without));  // NotIn holds when the key is absent
  EXPECT_TRUE(exists.matches(other));
  EXPECT_FALSE(exists.matches(without));
  EXPECT_FALSE(absent.matches(with));
  EXPECT_TRUE(absent.matches(without));
}

TEST(LabelSyntax, KeysValuesNamesAndPortNames) {
  EXPECT_EQ(label_key_problem("app"), "");
  EXPECT_EQ(label_key_problem("kubernetes.io/metadata.name"), "");
  EXPECT_EQ(label_key_problem("Example.com/app"),
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric character");
  EXPECT_EQ(label_key_problem("/app"), "prefix part must be non-empty");
  EXPECT_EQ(label_key_problem(std::string(64, 'a')),
            "name part must be no more than 63 characters");
  EXPECT_EQ(label_value_problem(""), "");
  EXPECT_EQ(label_value_problem("v1.2_b-c"), "");
  EXPECT_NE(label_value_problem("-v"), "");
  EXPECT_EQ(dns_label_problem("kube-system"), "");
  EXPECT_NE(dns_label_problem("a.b"), "");
  EXPECT_EQ(dns_subdomain_problem("a.b-c"), "");
  EXPECT_NE(dns_subdomain_problem("a..b"), "");
  EXPECT_EQ(port_name_problem("serve-80-tcp"), "");
  EXPECT_EQ(port_name_problem("a--b"), "must not contain consecutive hyphens");
  EXPECT_EQ(port_name_problem("-ab"), "must not begin or end with a hyphen");
}

}  // namespace
}  // namespace loom::policy
