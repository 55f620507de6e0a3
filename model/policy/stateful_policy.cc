#include "model/policy/stateful_policy.h"

namespace loom::policy {

bool StatefulPolicy::admit(const Flow& packet, Time now) {
  if (conntrack_.lookup(packet, now) != Conntrack::Match::kNone) return true;
  if (!engine_.allows(packet)) return false;
  conntrack_.track(packet, now);
  return true;
}

}  // namespace loom::policy
