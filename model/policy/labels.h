// Labels and label selectors, as Kubernetes matches them
// (k8s.io/apimachinery/pkg/labels, Requirement.Matches; netpol-semantics.md
// rule 3).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace loom::policy {

// A pod's or a namespace's labels, sorted by key.
using LabelMap = std::map<std::string, std::string, std::less<>>;

// Every namespace carries this label with its own name (rule 4).
inline constexpr std::string_view kNamespaceNameLabel = "kubernetes.io/metadata.name";

enum class SelectorOperator { kIn, kNotIn, kExists, kDoesNotExist };

struct SelectorRequirement {
  std::string key;
  SelectorOperator op = SelectorOperator::kExists;
  std::vector<std::string> values;  // In/NotIn only

  bool matches(const LabelMap& labels) const;
};

// matchLabels and matchExpressions, all ANDed; empty matches everything.
struct LabelSelector {
  LabelMap match_labels;
  std::vector<SelectorRequirement> match_expressions;

  bool empty() const { return match_labels.empty() && match_expressions.empty(); }
  bool matches(const LabelMap& labels) const;
};

// Kubernetes' syntax checks, each returning the reason or "" when valid.
// A label key: an optional DNS subdomain prefix and '/', then a name of at
// most 63 characters (IsQualifiedName).
std::string label_key_problem(std::string_view key);
// A label value: empty, or a name of at most 63 characters (IsValidLabelValue).
std::string label_value_problem(std::string_view value);
// A DNS-1123 subdomain (object names), or a label (namespace names).
std::string dns_subdomain_problem(std::string_view name);
std::string dns_label_problem(std::string_view name);
// A container port name (IANA_SVC_NAME, IsValidPortName).
std::string port_name_problem(std::string_view name);

}  // namespace loom::policy
