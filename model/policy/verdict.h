// A flow, and the engine's answer about it with the reasons: which policies
// isolate each end, which rule allowed it, or that none did.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/address.h"
#include "model/dataplane/flow.h"

namespace loom::policy {

// An IPv4 connection as its first packet shows it: the data plane's
// FlowKey (ICMP echo puts its identifier in src_port).
using Flow = dataplane::FlowKey;

enum class Direction : uint8_t { kIngress, kEgress };

// One end's side of the decision: the source's egress or the destination's
// ingress (netpol-semantics.md 6).
struct SideVerdict {
  enum class Reason : uint8_t {
    kNotAPod,      // this end is no pod of the cluster: nothing to enforce here
    kNotIsolated,  // no policy selects the pod for this direction
    kSamePod,      // a pod cannot block access to itself (rule 23)
    kNode,         // the pod and its own node always talk (rule 19)
    kRule,         // a rule of an isolating policy allows it
    kNoRule,       // isolated, and no rule allows it
  };

  Reason reason = Reason::kNotAPod;
  std::string pod;                    // "namespace/name", or the address when no pod
  std::vector<std::string> policies;  // isolating the pod this way, sorted
  std::string allowed_by;             // with kRule: "namespace/name"
  size_t rule = 0;                    // with kRule: the index in ingress/egress

  bool allowed() const { return reason != Reason::kNoRule; }
};

struct Verdict {
  bool allowed = false;
  SideVerdict egress;   // the source's
  SideVerdict ingress;  // the destination's
};

// One line: "allowed by y/allow-x ingress[0]"; "denied: x/a's egress is
// isolated by x/deny-all and no rule allows it".
std::string explain_side(const SideVerdict& side, Direction direction);
// {"allowed": ..., "egress": {...}, "ingress": {...}} with the fields of
// SideVerdict and a "reason" sentence from explain_side.
nlohmann::ordered_json to_json(const Verdict& verdict);

}  // namespace loom::policy
