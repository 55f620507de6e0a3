// Field readers shared by the manifest and cluster parsers. A reader that
// meets bad input throws FieldError; each parser catches it at its public
// function and returns an Error, so nothing escapes model/policy.
// Paths read as Kubernetes prints them: "spec.ingress[0].ports[1].port".
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "model/policy/labels.h"

namespace loom::policy::fields {

using nlohmann::json;

struct FieldError {
  std::string field;
  std::string reason;
  // "field: reason", or the reason alone for the whole document.
  std::string message() const { return field.empty() ? reason : field + ": " + reason; }
};

[[noreturn]] void fail(std::string field, std::string reason);

std::string child(const std::string& path, std::string_view key);
std::string item(const std::string& path, size_t index);

void expect_object(const json& value, const std::string& path);
// Rejects keys not listed ("unknown field"), as kubectl's strict validation does.
void only_fields(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> known);
// The member, or nullptr when it is absent or null (Go's zero value).
const json* member(const json& object, std::string_view key);
// An array member; nullptr when absent or null.
const json* array_member(const json& object, const std::string& path, std::string_view key);

std::string read_string(const json& value, const std::string& path);
int64_t read_int(const json& value, const std::string& path);
// "key: value" pairs of strings, each checked as a label.
LabelMap read_labels(const json& value, const std::string& path);

}  // namespace loom::policy::fields
