#include "model/policy/policy_parser.h"

#include <string>

#include "model/policy/json_fields.h"
#include "model/policy/yaml_json.h"

namespace loom::policy {

namespace {

using nlohmann::json;
using namespace fields;

constexpr std::string_view kApiVersion = "networking.k8s.io/v1";

LabelSelector read_selector(const json& value, const std::string& path) {
  expect_object(value, path);
  only_fields(value, path, {"matchLabels", "matchExpressions"});
  LabelSelector out;
  if (const json* labels = member(value, "matchLabels"))
    out.match_labels = read_labels(*labels, child(path, "matchLabels"));
  if (const json* exprs = array_member(value, path, "matchExpressions")) {
    for (size_t i = 0; i < exprs->size(); ++i) {
      const std::string at = item(child(path, "matchExpressions"), i);
      const json& e = (*exprs)[i];
      expect_object(e, at);
      only_fields(e, at, {"key", "operator", "values"});
      SelectorRequirement r;
      const json* key = member(e, "key");
      if (key == nullptr) fail(child(at, "key"), "required value");
      r.key = read_string(*key, child(at, "key"));
      if (auto p = label_key_problem(r.key); !p.empty())
        fail(child(at, "key"), "invalid label key '" + r.key + "': " + p);
      const json* op = member(e, "operator");
      if (op == nullptr) fail(child(at, "operator"), "required value");
      const std::string op_text = read_string(*op, child(at, "operator"));
      if (op_text == "In") {
        r.op = SelectorOperator::kIn;
      } else if (op_text == "NotIn") {
        r.op = SelectorOperator::kNotIn;
      } else if (op_text == "Exists") {
        r.op = SelectorOperator::kExists;
      } else if (op_text == "DoesNotExist") {
        r.op = SelectorOperator::kDoesNotExist;
      } else {
        fail(child(at, "operator"), "'" + op_text + "' is not a valid selector operator");
      }
      if (const json* values = array_member(e, at, "values")) {
        for (size_t j = 0; j < values->size(); ++j) {
          const std::string vat = item(child(at, "values"), j);
          r.values.push_back(read_string((*values)[j], vat));
          if (auto p = label_value_problem(r.values.back()); !p.empty())
            fail(vat, "invalid label value '" + r.values.back() + "': " + p);
        }
      }
      const bool set_op = r.op == SelectorOperator::kIn || r.op == SelectorOperator::kNotIn;
      if (set_op && r.values.empty())
        fail(child(at, "values"), "must be specified when `operator` is 'In' or 'NotIn'");
      if (!set_op && !r.values.empty()) {
        fail(child(at, "values"),
             "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
      }
      out.match_expressions.push_back(std::move(r));
    }
  }
  return out;
}

uint16_t read_port_number(const json& value, const std::string& path) {
  const int64_t n = read_int(value, path);
  if (n < 1 || n > 65535)
    fail(path, std::to_string(n) + ": must be between 1 and 65535, inclusive");
  return static_cast<uint16_t>(n);
}

PolicyPort read_port(const json& value, const std::string& path) {
  expect_object(value, path);
  only_fields(value, path, {"protocol", "port", "endPort"});
  PolicyPort out;  // protocol defaults to TCP (rule 14)
  if (const json* protocol = member(value, "protocol")) {
    const std::string text = read_string(*protocol, child(path, "protocol"));
    auto p = parse_protocol(text);
    if (!p) {
      fail(child(path, "protocol"),
           "unsupported value '" + text + "': supported values: \"SCTP\", \"TCP\", \"UDP\"");
    }
    out.protocol = *p;
  }
  if (const json* port = member(value, "port")) {
    const std::string at = child(path, "port");
    if (port->is_string()) {
      out.port_name = port->get<std::string>();
      if (auto p = port_name_problem(out.port_name); !p.empty())
        fail(at, "invalid port name '" + out.port_name + "': " + p);
    } else if (port->is_number_integer()) {
      out.port = read_port_number(*port, at);
    } else {
      fail(at, "expected a port number or a port name");
    }
  }
  if (const json* end = member(value, "endPort")) {
    const std::string at = child(path, "endPort");
    const uint16_t end_port = read_port_number(*end, at);
    if (!out.port_name.empty()) fail(at, "may not be specified when `port` is non-numeric");
    if (!out.port) fail(at, "may not be specified when `port` is not specified");
    if (end_port < *out.port) fail(at, "must be greater than or equal to `port`");
    out.end_port = end_port;
  }
  return out;
}

IpCidr read_cidr(const json& value, const std::string& path) {
  const std::string text = read_string(value, path);
  auto cidr = IpCidr::parse(text);
  if (!cidr) fail(path, cidr.error().message);
  return *cidr;
}

IpBlock read_ip_block(const json& value, const std::string& path) {
  expect_object(value, path);
  only_fields(value, path, {"cidr", "except"});
  const json* cidr = member(value, "cidr");
  if (cidr == nullptr) fail(child(path, "cidr"), "required value");
  IpBlock out{read_cidr(*cidr, child(path, "cidr")), {}};
  if (const json* except = array_member(value, path, "except")) {
    for (size_t i = 0; i < except->size(); ++i) {
      const std::string at = item(child(path, "except"), i);
      IpCidr e = read_cidr((*except)[i], at);
      // ValidateIPBlock: inside cidr, and strictly smaller.
      if (!out.cidr.contains(e) || e.prefix_len() <= out.cidr.prefix_len())
        fail(at, "'" + (*except)[i].get<std::string>() + "' must be a strict subset of `cidr`");
      out.except.push_back(e);
    }
  }
  return out;
}

PolicyPeer read_peer(const json& value, const std::string& path) {
  expect_object(value, path);
  only_fields(value, path, {"podSelector", "namespaceSelector", "ipBlock"});
  PolicyPeer out;
  if (const json* s = member(value, "podSelector"))
    out.pod_selector = read_selector(*s, child(path, "podSelector"));
  if (const json* s = member(value, "namespaceSelector"))
    out.namespace_selector = read_selector(*s, child(path, "namespaceSelector"));
  if (const json* b = member(value, "ipBlock"))
    out.ip_block = read_ip_block(*b, child(path, "ipBlock"));
  const bool selector = out.pod_selector || out.namespace_selector;
  if (!selector && !out.ip_block) fail(path, "must specify a peer");
  if (selector && out.ip_block) fail(path, "may not specify both ipBlock and another peer");
  return out;
}

std::vector<PolicyRule> read_rules(const json& spec, const std::string& spec_path,
                                   std::string_view direction, std::string_view peers_key) {
  std::vector<PolicyRule> out;
  const json* rules = array_member(spec, spec_path, direction);
  if (rules == nullptr) return out;
  for (size_t i = 0; i < rules->size(); ++i) {
    const std::string at = item(child(spec_path, direction), i);
    const json& r = (*rules)[i];
    expect_object(r, at);
    only_fields(r, at, {"ports", peers_key});
    PolicyRule rule;
    if (const json* ports = array_member(r, at, "ports")) {
      for (size_t j = 0; j < ports->size(); ++j)
        rule.ports.push_back(read_port((*ports)[j], item(child(at, "ports"), j)));
    }
    if (const json* peers = array_member(r, at, peers_key)) {
      for (size_t j = 0; j < peers->size(); ++j)
        rule.peers.push_back(read_peer((*peers)[j], item(child(at, peers_key), j)));
    }
    out.push_back(std::move(rule));
  }
  return out;
}

void read_spec(const json& spec, NetworkPolicy& out) {
  const std::string path = "spec";
  expect_object(spec, path);
  only_fields(spec, path, {"podSelector", "ingress", "egress", "policyTypes"});
  if (const json* s = member(spec, "podSelector"))
    out.pod_selector = read_selector(*s, child(path, "podSelector"));
  out.ingress = read_rules(spec, path, "ingress", "from");
  out.egress = read_rules(spec, path, "egress", "to");
  const json* types = array_member(spec, path, "policyTypes");
  if (types == nullptr || types->empty()) {
    // SetDefaults_NetworkPolicy (rule 7).
    out.isolates_ingress = true;
    out.isolates_egress = !out.egress.empty();
    return;
  }
  if (types->size() > 2) fail(child(path, "policyTypes"), "may not have more than 2 items");
  out.isolates_ingress = out.isolates_egress = false;
  for (size_t i = 0; i < types->size(); ++i) {
    const std::string at = item(child(path, "policyTypes"), i);
    const std::string t = read_string((*types)[i], at);
    if (t == "Ingress") {
      out.isolates_ingress = true;
    } else if (t == "Egress") {
      out.isolates_egress = true;
    } else {
      fail(at, "unsupported value '" + t + "': supported values: \"Ingress\", \"Egress\"");
    }
  }
}

void read_metadata(const json& meta, NetworkPolicy& out) {
  const std::string path = "metadata";
  expect_object(meta, path);
  // ObjectMeta's fields; only name and namespace mean anything here.
  only_fields(meta, path,
              {"name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation",
               "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
               "generateName", "selfLink", "ownerReferences", "finalizers", "managedFields"});
  const json* name = member(meta, "name");
  if (name == nullptr) fail(child(path, "name"), "required value");
  out.name = read_string(*name, child(path, "name"));
  if (auto p = dns_subdomain_problem(out.name); !p.empty())
    fail(child(path, "name"), "invalid name '" + out.name + "': " + p);
  if (const json* ns = member(meta, "namespace")) {
    out.namespace_name = read_string(*ns, child(path, "namespace"));
    if (auto p = dns_label_problem(out.namespace_name); !p.empty())
      fail(child(path, "namespace"), "invalid namespace '" + out.namespace_name + "': " + p);
  }
  if (const json* labels = member(meta, "labels")) read_labels(*labels, child(path, "labels"));
}

// "NetworkPolicy x/name" as far as the metadata can be read, for errors.
std::string describe(const json& object) {
  std::string out = "NetworkPolicy";
  const json* meta = object.is_object() ? member(object, "metadata") : nullptr;
  if (meta == nullptr || !meta->is_object()) return out;
  const json* name = member(*meta, "name");
  if (name == nullptr || !name->is_string()) return out;
  const json* ns = member(*meta, "namespace");
  std::string ns_text = ns != nullptr && ns->is_string() ? ns->get<std::string>() : "default";
  return out + " " + ns_text + "/" + name->get<std::string>();
}

std::string read_kind(const json& object, const std::string& path) {
  const json* kind = member(object, "kind");
  if (kind == nullptr) fail(child(path, "kind"), "required value (NetworkPolicy or List)");
  return read_string(*kind, child(path, "kind"));
}

NetworkPolicy read_policy(const json& object) {
  expect_object(object, "");
  only_fields(object, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  const json* version = member(object, "apiVersion");
  if (version == nullptr) fail("apiVersion", "required value");
  const std::string v = read_string(*version, "apiVersion");
  if (v != kApiVersion) fail("apiVersion", "'" + v + "' is not " + std::string(kApiVersion));
  NetworkPolicy out;
  const json* meta = member(object, "metadata");
  if (meta == nullptr) fail("metadata.name", "required value");
  read_metadata(*meta, out);
  if (const json* spec = member(object, "spec")) {
    read_spec(*spec, out);
  } else {
    out.isolates_ingress = true;  // the defaults of an empty spec: deny all ingress
  }
  return out;
}

}  // namespace

Result<std::vector<NetworkPolicy>> policies_from_json(const json& object) {
  std::vector<NetworkPolicy> out;
  std::string context;
  try {
    expect_object(object, "");
    const std::string kind = read_kind(object, "");
    if (kind == "NetworkPolicy") {
      context = describe(object);
      out.push_back(read_policy(object));
    } else if (kind == "List" || kind == "NetworkPolicyList") {
      only_fields(object, "", {"apiVersion", "kind", "metadata", "items"});
      const json* items = array_member(object, "", "items");
      for (size_t i = 0; items != nullptr && i < items->size(); ++i) {
        const json& o = (*items)[i];
        context = item("items", i);
        expect_object(o, "");
        const std::string item_kind = read_kind(o, "");
        if (item_kind != "NetworkPolicy") fail("kind", "'" + item_kind + "' is not NetworkPolicy");
        context += ": " + describe(o);
        out.push_back(read_policy(o));
      }
    } else {
      fail("kind", "'" + kind + "' is not NetworkPolicy (or a List of them)");
    }
  } catch (const FieldError& e) {
    return make_error(context.empty() ? e.message() : context + ": " + e.message());
  }
  return out;
}

Result<std::vector<NetworkPolicy>> parse_policies(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  std::vector<json> documents;
  if (first != std::string_view::npos && text[first] == '{') {
    try {
      documents.push_back(json::parse(text));
    } catch (const json::parse_error& e) {
      return make_error(std::string("not valid JSON: ") + e.what());
    }
  } else {
    auto yaml = yaml_documents(text);
    if (!yaml) return yaml.error();
    documents = std::move(*yaml);
  }
  std::vector<NetworkPolicy> out;
  for (size_t i = 0; i < documents.size(); ++i) {
    auto policies = policies_from_json(documents[i]);
    if (!policies) {
      if (documents.size() == 1) return policies.error();
      return make_error("document " + std::to_string(i + 1) + ": " + policies.error().message);
    }
    for (auto& p : *policies) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace loom::policy
