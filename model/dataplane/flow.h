// Flows: the policy hook and the cache that makes an established flow cost
// a lookup, not a decision.
//
// The switch asks a FlowVerdict once per new flow and direction (a pod
// sending, a pod receiving); the answer is kept in a FlowCache until the
// flow goes unused for a sweep interval or the cache is flushed. That is how
// Weave's fastdp treats its kernel flows (weave-protocol.md 3.5): a miss goes
// to userspace, the decision is installed, later packets hit the flow;
// unused flows are deleted every 5 minutes, and every flow is deleted when a
// MAC moves or routes or short IDs change. weave_flows counts the entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "model/address.h"
#include "model/bytes.h"
#include "model/host.h"

namespace loom::dataplane {

// An IPv4 flow as a policy sees it. ICMP echo puts its identifier in
// src_port; other ICMP and non-first fragments have no ports.
struct FlowKey {
  Ipv4 src;
  Ipv4 dst;
  uint8_t protocol = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;

  friend bool operator==(const FlowKey&, const FlowKey&) = default;
};

// Which way the frame crosses the bridge: sent by a local pod (egress), or
// about to be delivered to one (ingress).
enum class FlowDirection : uint8_t { kEgress, kIngress };

// The flow of an Ethernet frame carrying IPv4 (one 802.1Q tag allowed);
// none for anything else (ARP, IPv6, garbage), which policy does not judge.
std::optional<FlowKey> flow_of(ByteView frame);

// Which datagram an IPv4 fragment belongs to (RFC 791: source,
// destination, protocol and identification), and whether it is the first
// fragment (offset 0, more fragments), the only one carrying the ports.
struct FragmentOf {
  Ipv4 src;
  Ipv4 dst;
  uint8_t protocol = 0;
  uint16_t id = 0;
  bool first = false;
};
// None for anything but an IPv4 fragment (an unfragmented packet included).
std::optional<FragmentOf> fragment_of(ByteView frame);

// Verdicts of fragmented datagrams, as Linux's conntrack judges them after
// reassembly (nf_defrag): every fragment of a datagram shares the verdict
// of its first fragment; a later fragment whose first was not seen is
// refused. Entries live 30 s (Linux's ipfrag_time).
class FragmentVerdicts {
 public:
  static constexpr int64_t kLifetimeSeconds = 30;
  void remember(const FragmentOf& f, int direction, bool allowed, Time now);
  // The first fragment's verdict; false when none is remembered.
  bool verdict(const FragmentOf& f, int direction, Time now) const;
  // Forgets entries older than their lifetime.
  void expire(Time now);
  size_t size() const { return entries_.size(); }

 private:
  struct Key {
    uint32_t src, dst;
    uint16_t id;
    uint8_t protocol;
    uint8_t direction;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct Hash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    bool allowed;
    Time at;
  };
  static Key key(const FragmentOf& f, int direction);
  std::unordered_map<Key, Entry, Hash> entries_;  // looked up and expired only
};

// Decides new flows; the policy engine implements it (model/policy).
class FlowVerdict {
 public:
  virtual ~FlowVerdict() = default;
  virtual bool allow(const FlowKey& flow, FlowDirection direction) = 0;
};

// Until a policy engine plugs in: every flow passes.
class AllowAllFlows final : public FlowVerdict {
 public:
  bool allow(const FlowKey&, FlowDirection) override { return true; }
};

class FlowCache {
 public:
  // The cached verdict, marking the flow used; none on a miss.
  std::optional<bool> lookup(const FlowKey& flow, FlowDirection direction);
  void insert(const FlowKey& flow, FlowDirection direction, bool allowed);
  // fastdp's expireFlows: drops flows not used since the last sweep and
  // clears the mark on the others. Returns how many were dropped.
  size_t sweep();
  // Every flow (fastdp's deleteFlows).
  void flush() { flows_.clear(); }
  size_t size() const { return flows_.size(); }

 private:
  struct Key {
    FlowKey flow;
    FlowDirection direction;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct Hash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    bool allowed;
    bool used;
  };
  // Only looked up and swept (order-independent).
  std::unordered_map<Key, Entry, Hash> flows_;
};

}  // namespace loom::dataplane
