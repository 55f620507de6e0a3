// Conntrack: the connections policy has allowed, so that their packets and
// replies pass without another decision (netpol-semantics.md rule 20).
//
// Keyed on the 5-tuple and found from either direction: the original
// direction, or the reply (addresses and ports swapped; ICMP echo keeps its
// identifier). Time is whatever the caller passes in (Host::now() in an
// engine); an entry dies when idle longer than its protocol's timeout, as
// Linux's nf_conntrack times them (below).
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "model/host.h"
#include "model/policy/verdict.h"

namespace loom::policy {

struct ConntrackTimeouts {
  // nf_conntrack_tcp_timeout_established (TCP states are not tracked:
  // every TCP connection counts as established until idle this long).
  Time tcp = std::chrono::seconds(432000);
  // nf_conntrack_udp_timeout, and _stream once a reply has been seen.
  Time udp = std::chrono::seconds(30);
  Time udp_replied = std::chrono::seconds(120);
  Time sctp = std::chrono::seconds(210);  // nf_conntrack_sctp_timeout_established
  Time other = std::chrono::seconds(30);  // ICMP and the rest (nf_conntrack_icmp_timeout)
};

class Conntrack {
 public:
  enum class Match : uint8_t { kNone, kOriginal, kReply };

  explicit Conntrack(ConntrackTimeouts timeouts = {}) : timeouts_(timeouts) {}

  // Whether `flow` belongs to a tracked connection, and which way. A hit
  // refreshes the connection's idle timer; an expired entry is dropped and
  // misses.
  Match lookup(const Flow& flow, Time now);
  // Tracks a connection whose first packet is `flow` (the original direction).
  void track(const Flow& flow, Time now);
  // Drops every entry idle past its timeout; returns how many.
  size_t expire(Time now);
  void clear() { entries_.clear(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Hash {
    size_t operator()(const Flow& f) const;
  };
  struct Entry {
    Time last_seen{};
    bool replied = false;
  };

  Time timeout(const Flow& original, const Entry& entry) const;
  bool alive(const Flow& original, const Entry& entry, Time now) const {
    return now - entry.last_seen <= timeout(original, entry);
  }

  ConntrackTimeouts timeouts_;
  // Keyed by the original direction; only looked up and swept.
  std::unordered_map<Flow, Entry, Hash> entries_;
};

// The tuple of the reply to `flow`.
Flow reply_of(const Flow& flow);

}  // namespace loom::policy
