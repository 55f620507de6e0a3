// StatefulPolicy: a PolicyEngine with connection tracking, judging packets
// as a whole cluster would (both ends' policies at once). A packet of a
// tracked connection passes either way; any other packet opens a new
// connection, judged by the engine and tracked when allowed (rule 20). The
// reply's own direction is never judged: a new connection the other way,
// with other ports, is.
#pragma once

#include "model/policy/conntrack.h"
#include "model/policy/policy_engine.h"

namespace loom::policy {

class StatefulPolicy {
 public:
  explicit StatefulPolicy(const PolicyEngine& engine, ConntrackTimeouts timeouts = {})
      : engine_(engine), conntrack_(timeouts) {}

  bool admit(const Flow& packet, Time now);
  Conntrack& conntrack() { return conntrack_; }

 private:
  const PolicyEngine& engine_;
  Conntrack conntrack_;
};

}  // namespace loom::policy
