// FlowPolicy: the policy engine behind the data plane's FlowVerdict hook
// (model/dataplane/flow.h), on one host.
//
// The switch asks once per flow and direction: kEgress when a local pod
// sends, kIngress before a frame is delivered to a local pod. Each host thus
// enforces its own pods' side, as Weave's npc does: the sender's host its
// egress policies, the receiver's host its ingress policies. Connections
// allowed each way are tracked apart, so that a reply (say, a local pod
// answering on an ingress-allowed connection) passes unjudged, while the
// first packet of a connection between two pods of one host is judged on
// both sides. Time comes from the Host; idle connections are swept every
// minute.
//
// Metrics: loom_policy_flows_total{direction, verdict} (verdict: allowed,
// denied, reply) and the gauge loom_policy_conntrack_entries.
#pragma once

#include "model/dataplane/flow.h"
#include "model/host.h"
#include "model/policy/conntrack.h"
#include "model/policy/policy_engine.h"

namespace loom::policy {

class FlowPolicy final : public dataplane::FlowVerdict {
 public:
  // `engine` must outlive this; keep its cluster and policies current.
  FlowPolicy(Host& host, const PolicyEngine& engine, ConntrackTimeouts timeouts = {});
  ~FlowPolicy() override;
  FlowPolicy(const FlowPolicy&) = delete;
  FlowPolicy& operator=(const FlowPolicy&) = delete;

  bool allow(const Flow& flow, dataplane::FlowDirection direction) override;

  size_t tracked() const { return out_.size() + in_.size(); }

 private:
  void sweep();

  Host& host_;
  const PolicyEngine& engine_;
  Conntrack out_;  // connections local pods opened (egress allowed)
  Conntrack in_;   // connections into local pods (ingress allowed)
  TimerId sweep_timer_ = 0;
  Counter* counters_[2][3];  // [direction][allowed, denied, reply]
  Gauge& entries_;
};

}  // namespace loom::policy
