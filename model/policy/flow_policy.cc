#include "model/policy/flow_policy.h"

namespace loom::policy {

namespace {

constexpr Time kSweepInterval = std::chrono::seconds(60);

Counter* flow_counter(Metrics& metrics, const char* direction, const char* verdict) {
  return &metrics.counter("loom_policy_flows_total",
                          {{"direction", direction}, {"verdict", verdict}});
}

}  // namespace

FlowPolicy::FlowPolicy(Host& host, const PolicyEngine& engine, ConntrackTimeouts timeouts)
    : host_(host),
      engine_(engine),
      out_(timeouts),
      in_(timeouts),
      entries_(host.metrics().gauge("loom_policy_conntrack_entries")) {
  const char* directions[] = {"egress", "ingress"};
  const char* verdicts[] = {"allowed", "denied", "reply"};
  for (int d = 0; d < 2; ++d) {
    for (int v = 0; v < 3; ++v)
      counters_[d][v] = flow_counter(host.metrics(), directions[d], verdicts[v]);
  }
  sweep_timer_ = host_.after(kSweepInterval, [this] { sweep(); });
}

FlowPolicy::~FlowPolicy() { host_.cancel(sweep_timer_); }

bool FlowPolicy::allow(const Flow& flow, dataplane::FlowDirection direction) {
  const bool egress = direction == dataplane::FlowDirection::kEgress;
  Conntrack& mine = egress ? out_ : in_;
  Conntrack& other = egress ? in_ : out_;
  Counter* const* counters = counters_[egress ? 0 : 1];
  const Time now = host_.now();
  if (mine.lookup(flow, now) == Conntrack::Match::kOriginal) {
    counters[0]->add();
    return true;
  }
  if (other.lookup(flow, now) == Conntrack::Match::kReply) {
    counters[2]->add();
    return true;
  }
  if (!engine_.allows(flow, egress ? Direction::kEgress : Direction::kIngress)) {
    counters[1]->add();
    return false;
  }
  mine.track(flow, now);
  entries_.set(static_cast<double>(tracked()));
  counters[0]->add();
  return true;
}

void FlowPolicy::sweep() {
  const Time now = host_.now();
  out_.expire(now);
  in_.expire(now);
  entries_.set(static_cast<double>(tracked()));
  sweep_timer_ = host_.after(kSweepInterval, [this] { sweep(); });
}

}  // namespace loom::policy
