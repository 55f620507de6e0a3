// The cluster a policy engine evaluates against: namespaces with labels,
// pods with their namespace, labels, IP, node and named container ports,
// and the nodes' own addresses. CLUSTER.json (docs/policy.md) reads into it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/address.h"
#include "model/policy/labels.h"
#include "model/policy/network_policy.h"
#include "model/result.h"

namespace loom::policy {

struct ContainerPort {
  std::string name;  // may be empty: then only reachable by number
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;

  friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

struct Pod {
  std::string namespace_name;
  std::string name;
  LabelMap labels;
  Ipv4 ip;
  std::string node;  // empty: unknown, so no traffic counts as its node's
  std::vector<ContainerPort> ports;

  // "namespace/name"
  std::string key() const { return namespace_name + "/" + name; }
  // The port number `name` gives for `protocol` (rule 14), if any.
  std::optional<uint16_t> named_port(std::string_view port_name, Protocol protocol) const;

  friend bool operator==(const Pod&, const Pod&) = default;
};

struct Cluster {
  std::map<std::string, LabelMap> namespaces;  // labels as given (without the name label)
  std::vector<Pod> pods;                       // sorted by namespace/name
  std::map<std::string, Ipv4> nodes;           // node name -> its address

  const Pod* find_pod(std::string_view key) const;  // "namespace/name"
};

// CLUSTER.json: {"namespaces": {"x": {"labels": {...}}}, "nodes": {"n1":
// {"ip": "192.168.0.1"}}, "pods": [{"namespace": "x", "name": "a", "labels":
// {...}, "ip": "10.0.0.1", "node": "n1", "ports": [{"name": "serve-80-tcp",
// "port": 80, "protocol": "TCP"}]}]}. Errors name the field
// ("pods[3].ip: ...") and the reason.
Result<Cluster> parse_cluster(std::string_view json_text);
Result<Cluster> cluster_from_json(const nlohmann::json& document);

}  // namespace loom::policy
