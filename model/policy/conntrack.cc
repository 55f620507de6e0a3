#include "model/policy/conntrack.h"

#include "model/policy/network_policy.h"

namespace loom::policy {

namespace {

constexpr uint8_t kIcmp = 1;

}  // namespace

Flow reply_of(const Flow& flow) {
  // An echo reply carries the request's identifier in the same place.
  if (flow.protocol == kIcmp)
    return {flow.dst, flow.src, flow.protocol, flow.src_port, flow.dst_port};
  return {flow.dst, flow.src, flow.protocol, flow.dst_port, flow.src_port};
}

size_t Conntrack::Hash::operator()(const Flow& f) const {
  uint64_t h = (uint64_t{f.src.value} << 32) | f.dst.value;
  h ^= (uint64_t{f.src_port} << 40) ^ (uint64_t{f.dst_port} << 24) ^ f.protocol;
  h *= 0x9E3779B97F4A7C15ULL;
  return static_cast<size_t>(h ^ (h >> 29));
}

Time Conntrack::timeout(const Flow& original, const Entry& entry) const {
  switch (original.protocol) {
    case static_cast<uint8_t>(Protocol::kTcp):
      return timeouts_.tcp;
    case static_cast<uint8_t>(Protocol::kUdp):
      return entry.replied ? timeouts_.udp_replied : timeouts_.udp;
    case static_cast<uint8_t>(Protocol::kSctp):
      return timeouts_.sctp;
    default:
      return timeouts_.other;
  }
}

Conntrack::Match Conntrack::lookup(const Flow& flow, Time now) {
  Match match = Match::kOriginal;
  auto it = entries_.find(flow);
  if (it == entries_.end()) {
    match = Match::kReply;
    it = entries_.find(reply_of(flow));
    if (it == entries_.end()) return Match::kNone;
  }
  if (!alive(it->first, it->second, now)) {
    entries_.erase(it);
    return Match::kNone;
  }
  it->second.last_seen = now;
  if (match == Match::kReply) it->second.replied = true;
  return match;
}

void Conntrack::track(const Flow& flow, Time now) { entries_[flow] = Entry{now, false}; }

size_t Conntrack::expire(Time now) {
  return std::erase_if(entries_, [&](const auto& e) { return !alive(e.first, e.second, now); });
}

}  // namespace loom::policy
