// YAML documents as JSON values, the way kubectl reads manifests
// (sigs.k8s.io/yaml: YAML 1.1 scalars through go-yaml, then JSON), so one
// validator serves both formats.
#pragma once

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/result.h"

namespace loom::policy {

// Every non-empty document of a YAML stream ("---" separated). Plain
// scalars resolve as go-yaml v2 does: null/~, true/false/yes/no/on/off,
// integers (decimal, 0x, 0o, leading-0 octal), floats; quoted or !!str
// scalars stay strings. Duplicate keys are an error, as in go-yaml. The
// error names the line and column.
Result<std::vector<nlohmann::json>> yaml_documents(std::string_view text);

}  // namespace loom::policy
