#include "model/policy/json_fields.h"

#include <algorithm>

namespace loom::policy::fields {

namespace {

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_float:
      return "a fractional number";
    default:
      return "a number";
  }
}

std::string got(const json& v) { return std::string(", got ") + type_name(v); }

}  // namespace

void fail(std::string field, std::string reason) {
  throw FieldError{std::move(field), std::move(reason)};
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

void expect_object(const json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "expected an object" + got(value));
}

void only_fields(const json& object, const std::string& path,
                 std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail(child(path, key), "unknown field");
  }
}

const json* member(const json& object, std::string_view key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const json* array_member(const json& object, const std::string& path, std::string_view key) {
  const json* v = member(object, key);
  if (v != nullptr && !v->is_array()) fail(child(path, key), "expected an array" + got(*v));
  return v;
}

std::string read_string(const json& value, const std::string& path) {
  if (!value.is_string()) fail(path, "expected a string" + got(value));
  return value.get<std::string>();
}

int64_t read_int(const json& value, const std::string& path) {
  if (!value.is_number_integer()) fail(path, "expected an integer" + got(value));
  if (value.is_number_unsigned() && value.get<uint64_t>() > uint64_t{INT64_MAX})
    fail(path, "out of range");
  return value.get<int64_t>();
}

LabelMap read_labels(const json& value, const std::string& path) {
  expect_object(value, path);
  LabelMap out;
  for (const auto& [key, v] : value.items()) {
    const std::string at = child(path, key);
    if (auto p = label_key_problem(key); !p.empty()) fail(at, "invalid label key: " + p);
    std::string text = read_string(v, at);
    if (auto p = label_value_problem(text); !p.empty())
      fail(at, "invalid label value '" + text + "': " + p);
    out.emplace(key, std::move(text));
  }
  return out;
}

}  // namespace loom::policy::fields
