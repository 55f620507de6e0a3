#include "model/policy/yaml_json.h"

#include <charconv>
#include <cmath>
#include <regex>
#include <string>

#include <yaml-cpp/yaml.h>

namespace loom::policy {

namespace {

using nlohmann::json;

// Aliases can nest documents inside themselves; real manifests are shallow.
constexpr int kMaxDepth = 64;

struct ConvertError {
  YAML::Mark mark;
  std::string reason;
};

std::optional<int64_t> parse_yaml_int(std::string text) {
  std::erase(text, '_');
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.erase(0, 1);
  }
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    base = 16;
    text.erase(0, 2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'o' || text[1] == 'O')) {
    base = 8;
    text.erase(0, 2);
  } else if (text.size() > 2 && text[0] == '0' && (text[1] == 'b' || text[1] == 'B')) {
    base = 2;
    text.erase(0, 2);
  } else if (text.size() > 1 && text[0] == '0') {
    base = 8;
  }
  if (text.empty()) return std::nullopt;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (magnitude > uint64_t{INT64_MAX} + (negative ? 1 : 0)) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

// go-yaml v2's resolve() for a plain scalar.
json resolve_plain(const std::string& s) {
  static const char* const kTrue[] = {"y",    "Y",    "yes", "Yes", "YES", "true",
                                      "True", "TRUE", "on",  "On",  "ON"};
  static const char* const kFalse[] = {"n",     "N",     "no",  "No",  "NO", "false",
                                       "False", "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue)
    if (s == t) return true;
  for (const char* f : kFalse)
    if (s == f) return false;
  if (auto i = parse_yaml_int(s)) return *i;
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kFloat)) return std::stod(s);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return INFINITY;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -INFINITY;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return NAN;
  return s;
}

json convert(const YAML::Node& node, int depth) {
  if (depth > kMaxDepth) throw ConvertError{node.Mark(), "nested too deeply"};
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
    case YAML::NodeType::Null:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& tag = node.Tag();
      if (tag == "!" || tag == "tag:yaml.org,2002:str") return node.Scalar();  // quoted
      if (tag == "tag:yaml.org,2002:int") {
        if (auto i = parse_yaml_int(node.Scalar())) return *i;
        throw ConvertError{node.Mark(), "cannot decode '" + node.Scalar() + "' as an !!int"};
      }
      return resolve_plain(node.Scalar());
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const YAML::Node& item : node) out.push_back(convert(item, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->first.IsScalar()) {
          throw ConvertError{it->first.Mark(), "a mapping key must be a scalar"};
        }
        const std::string& key = it->first.Scalar();
        if (out.contains(key)) {
          throw ConvertError{it->first.Mark(), "key \"" + key + "\" already set in map"};
        }
        out[key] = convert(it->second, depth + 1);
      }
      return out;
    }
  }
  return nullptr;
}

std::string where(const YAML::Mark& mark) {
  if (mark.is_null()) return "";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1) +
         ": ";
}

}  // namespace

Result<std::vector<json>> yaml_documents(std::string_view text) {
  std::vector<YAML::Node> nodes;
  try {
    nodes = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    return make_error("not valid YAML: " + where(e.mark) + e.msg);
  }
  std::vector<json> out;
  try {
    for (const YAML::Node& node : nodes) {
      json doc = convert(node, 0);
      if (!doc.is_null()) out.push_back(std::move(doc));  // kubectl skips empty documents
    }
  } catch (const ConvertError& e) {
    return make_error("not valid YAML: " + where(e.mark) + e.reason);
  } catch (const YAML::Exception& e) {
    return make_error("not valid YAML: " + where(e.mark) + e.msg);
  }
  return out;
}

}  // namespace loom::policy
