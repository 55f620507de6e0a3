// The reachability matrix: for every ordered pair of distinct pods and
// every port the destination serves, whether a new connection is allowed.
// From a pod to itself is left out (rule 23: loopback never meets policy,
// and the upstream suites skip the diagonal).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/policy/policy_engine.h"

namespace loom::policy {

struct Probe {
  std::string from;  // "namespace/name"
  std::string to;
  uint16_t port = 0;
  Protocol protocol = Protocol::kTcp;
  bool allowed = false;
};

// The source port of every probe; policy never looks at it.
inline constexpr uint16_t kProbeSourcePort = 40000;

// Pods in the order given (Cluster::pods is sorted); each destination's
// ports in the order it declares them.
std::vector<Probe> reachability(const PolicyEngine& engine, const std::vector<Pod>& pods);

// {"probes": [{"from": "x/a", "to": "y/b", "port": 80, "protocol": "TCP",
// "allowed": true}, ...]}
nlohmann::ordered_json to_json(const std::vector<Probe>& probes);

}  // namespace loom::policy
