#include "model/policy/verdict.h"

namespace loom::policy {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

nlohmann::ordered_json side_json(const SideVerdict& side, Direction direction) {
  nlohmann::ordered_json out;
  out["pod"] = side.pod;
  out["isolated"] = !side.policies.empty();
  out["policies"] = side.policies;
  out["allowed"] = side.allowed();
  if (side.reason == SideVerdict::Reason::kRule) {
    out["allowed_by"] = {{"policy", side.allowed_by},
                         {"rule", (direction == Direction::kIngress ? "ingress[" : "egress[") +
                                      std::to_string(side.rule) + "]"}};
  }
  out["reason"] = explain_side(side, direction);
  return out;
}

}  // namespace

std::string explain_side(const SideVerdict& side, Direction direction) {
  const char* way = direction == Direction::kIngress ? "ingress" : "egress";
  switch (side.reason) {
    case SideVerdict::Reason::kNotAPod:
      return side.pod + " is not a pod of the cluster: no " + way + " policy applies";
    case SideVerdict::Reason::kNotIsolated:
      return "no policy isolates " + side.pod + " for " + way;
    case SideVerdict::Reason::kSamePod:
      return "a pod cannot block access to itself";
    case SideVerdict::Reason::kNode:
      return "traffic between " + side.pod + " and its own node is always allowed";
    case SideVerdict::Reason::kRule:
      return "allowed by " + side.allowed_by + " " + way + "[" + std::to_string(side.rule) + "]";
    case SideVerdict::Reason::kNoRule:
      return side.pod + "'s " + way + " is isolated by " + join(side.policies) +
             " and no rule of theirs allows it";
  }
  return "";
}

nlohmann::ordered_json to_json(const Verdict& verdict) {
  nlohmann::ordered_json out;
  out["allowed"] = verdict.allowed;
  out["egress"] = side_json(verdict.egress, Direction::kEgress);
  out["ingress"] = side_json(verdict.ingress, Direction::kIngress);
  return out;
}

}  // namespace loom::policy
