#include "model/policy/cluster.h"

#include <algorithm>
#include <set>

#include "model/policy/json_fields.h"

namespace loom::policy {

namespace {

using nlohmann::json;
using namespace fields;

Ipv4 read_ip(const json& value, const std::string& path) {
  const std::string text = read_string(value, path);
  auto ip = Ipv4::parse(text);
  if (!ip) fail(path, "'" + text + "' is not an IPv4 address");
  return *ip;
}

std::vector<ContainerPort> read_ports(const json& pod, const std::string& path) {
  std::vector<ContainerPort> out;
  const json* ports = array_member(pod, path, "ports");
  if (ports == nullptr) return out;
  for (size_t i = 0; i < ports->size(); ++i) {
    const std::string at = item(child(path, "ports"), i);
    const json& p = (*ports)[i];
    expect_object(p, at);
    only_fields(p, at, {"name", "port", "protocol"});
    ContainerPort port;
    if (const json* name = member(p, "name")) {
      port.name = read_string(*name, child(at, "name"));
      if (auto problem = port_name_problem(port.name); !problem.empty())
        fail(child(at, "name"), "invalid port name '" + port.name + "': " + problem);
    }
    const json* number = member(p, "port");
    if (number == nullptr) fail(child(at, "port"), "required value");
    const int64_t n = read_int(*number, child(at, "port"));
    if (n < 1 || n > 65535) fail(child(at, "port"), "must be between 1 and 65535, inclusive");
    port.port = static_cast<uint16_t>(n);
    if (const json* protocol = member(p, "protocol")) {
      const std::string text = read_string(*protocol, child(at, "protocol"));
      auto parsed = parse_protocol(text);
      if (!parsed) fail(child(at, "protocol"), "'" + text + "' is not TCP, UDP or SCTP");
      port.protocol = *parsed;
    }
    for (const ContainerPort& other : out) {
      if (!port.name.empty() && other.name == port.name)
        fail(child(at, "name"), "'" + port.name + "' is already used by another port");
      if (other.port == port.port && other.protocol == port.protocol) {
        fail(at, std::to_string(port.port) + "/" + std::string(protocol_name(port.protocol)) +
                     " is already listed");
      }
    }
    out.push_back(std::move(port));
  }
  return out;
}

Cluster read_cluster(const json& doc) {
  expect_object(doc, "");
  only_fields(doc, "", {"namespaces", "nodes", "pods"});
  Cluster out;
  const json* namespaces = member(doc, "namespaces");
  if (namespaces == nullptr) fail("namespaces", "required value");
  expect_object(*namespaces, "namespaces");
  for (const auto& [name, ns] : namespaces->items()) {
    const std::string at = child("namespaces", name);
    if (auto p = dns_label_problem(name); !p.empty()) fail(at, "invalid namespace name: " + p);
    expect_object(ns, at);
    only_fields(ns, at, {"labels"});
    LabelMap labels;
    if (const json* l = member(ns, "labels")) labels = read_labels(*l, child(at, "labels"));
    if (auto it = labels.find(kNamespaceNameLabel); it != labels.end() && it->second != name) {
      fail(child(child(at, "labels"), kNamespaceNameLabel),
           "Kubernetes sets this label to the namespace's name, '" + name + "'");
    }
    out.namespaces.emplace(name, std::move(labels));
  }
  std::map<uint32_t, std::string> owner_of_ip;  // for duplicate addresses
  if (const json* nodes = member(doc, "nodes")) {
    expect_object(*nodes, "nodes");
    for (const auto& [name, node] : nodes->items()) {
      const std::string at = child("nodes", name);
      expect_object(node, at);
      only_fields(node, at, {"ip"});
      const json* ip = member(node, "ip");
      if (ip == nullptr) fail(child(at, "ip"), "required value");
      Ipv4 address = read_ip(*ip, child(at, "ip"));
      if (auto [it, fresh] = owner_of_ip.emplace(address.value, "node " + name); !fresh)
        fail(child(at, "ip"), address.to_string() + " is already the address of " + it->second);
      out.nodes.emplace(name, address);
    }
  }
  std::set<std::string> keys;
  if (const json* pods = array_member(doc, "", "pods")) {
    for (size_t i = 0; i < pods->size(); ++i) {
      const std::string at = item("pods", i);
      const json& p = (*pods)[i];
      expect_object(p, at);
      only_fields(p, at, {"namespace", "name", "labels", "ip", "node", "ports"});
      Pod pod;
      for (auto [key, target] :
           {std::pair{"namespace", &pod.namespace_name}, std::pair{"name", &pod.name}}) {
        const json* v = member(p, key);
        if (v == nullptr) fail(child(at, key), "required value");
        *target = read_string(*v, child(at, key));
      }
      if (!out.namespaces.contains(pod.namespace_name)) {
        fail(child(at, "namespace"),
             "'" + pod.namespace_name + "' is not one of the cluster's namespaces");
      }
      if (auto problem = dns_subdomain_problem(pod.name); !problem.empty())
        fail(child(at, "name"), "invalid pod name: " + problem);
      if (!keys.insert(pod.key()).second) fail(child(at, "name"), pod.key() + " is listed twice");
      if (const json* l = member(p, "labels")) pod.labels = read_labels(*l, child(at, "labels"));
      const json* ip = member(p, "ip");
      if (ip == nullptr) fail(child(at, "ip"), "required value");
      pod.ip = read_ip(*ip, child(at, "ip"));
      if (auto [it, fresh] = owner_of_ip.emplace(pod.ip.value, "pod " + pod.key()); !fresh)
        fail(child(at, "ip"), pod.ip.to_string() + " is already the address of " + it->second);
      if (const json* node = member(p, "node")) {
        pod.node = read_string(*node, child(at, "node"));
        if (!out.nodes.empty() && !out.nodes.contains(pod.node))
          fail(child(at, "node"), "'" + pod.node + "' is not one of the cluster's nodes");
      }
      pod.ports = read_ports(p, at);
      out.pods.push_back(std::move(pod));
    }
  }
  std::sort(out.pods.begin(), out.pods.end(),
            [](const Pod& a, const Pod& b) { return a.key() < b.key(); });
  return out;
}

}  // namespace

std::optional<uint16_t> Pod::named_port(std::string_view port_name, Protocol protocol) const {
  for (const ContainerPort& p : ports) {
    if (!p.name.empty() && p.protocol == protocol && p.name == port_name) return p.port;
  }
  return std::nullopt;
}

const Pod* Cluster::find_pod(std::string_view key) const {
  for (const Pod& p : pods) {
    if (p.key() == key) return &p;
  }
  return nullptr;
}

Result<Cluster> cluster_from_json(const json& document) {
  try {
    return read_cluster(document);
  } catch (const FieldError& e) {
    return make_error(e.message());
  }
}

Result<Cluster> parse_cluster(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return make_error(std::string("not valid JSON: ") + e.what());
  }
  return cluster_from_json(doc);
}

}  // namespace loom::policy
