// Reading NetworkPolicy manifests as kubectl and the API server would:
// YAML (one or more documents) or JSON (one object, or a List of them),
// validated like pkg/apis/networking/validation, defaulted like
// pkg/apis/networking/v1/defaults.go (netpol-semantics.md 7, 12, 14, 16).
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/policy/network_policy.h"
#include "model/result.h"

namespace loom::policy {

// Every NetworkPolicy in a manifest: JSON when the text starts with '{'
// (after whitespace), else YAML. Empty YAML documents are skipped. Errors
// read "document 2: NetworkPolicy x/deny: spec.ingress[0].from[0]: may not
// specify both ipBlock and another peer" (the document, or the List item,
// the object and the field).
Result<std::vector<NetworkPolicy>> parse_policies(std::string_view text);

// One decoded object, which must be a NetworkPolicy or a List of them.
Result<std::vector<NetworkPolicy>> policies_from_json(const nlohmann::json& object);

}  // namespace loom::policy
