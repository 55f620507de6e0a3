// PolicyEngine: NetworkPolicy compiled against a cluster, deciding new
// connections (netpol-semantics.md, all of sections 1-4 and 6).
//
// The index: each pod keeps the policies that isolate it, per direction
// (sorted by namespace/name), and each rule keeps the set of pods its
// selector peers choose, as a bitset over pod slots. A verdict therefore
// looks up two pods by address and walks only the policies of those two
// pods, testing a bit per rule; no selector is evaluated and no other
// policy is touched. Any change of a pod, its labels, a namespace's labels,
// a node or a policy updates the index at once (selectors are live queries,
// rule 22), touching only what the change can affect.
//
// Stateless: replies need a Conntrack beside it (conntrack.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/policy/cluster.h"
#include "model/policy/network_policy.h"
#include "model/policy/verdict.h"
#include "model/result.h"

namespace loom::policy {

class PolicyEngine {
 public:
  struct Status {
    size_t namespaces = 0;
    size_t nodes = 0;
    size_t pods = 0;
    size_t policies = 0;
    size_t ingress_isolated_pods = 0;
    size_t egress_isolated_pods = 0;
  };

  // --- the cluster -----------------------------------------------------
  // Adds or relabels a namespace (kubernetes.io/metadata.name is added).
  void set_namespace(const std::string& name, LabelMap labels);
  void set_node(const std::string& name, Ipv4 address);
  // Adds a pod or replaces the one of the same namespace/name. Refused when
  // another pod holds its address.
  Result<void> set_pod(Pod pod);
  bool remove_pod(std::string_view key);  // "namespace/name"
  // Namespaces, nodes and pods of `cluster`, added to what is there.
  Result<void> load(const Cluster& cluster);

  // --- policies ----------------------------------------------------------
  // Adds a policy or replaces the one of the same namespace/name.
  void set_policy(NetworkPolicy policy);
  bool remove_policy(std::string_view key);  // "namespace/name"

  // --- decisions about a new connection ----------------------------------
  // Both sides: the source's egress and the destination's ingress.
  bool allows(const Flow& flow) const;
  // One side, as a host's data plane asks: kEgress judges the source pod's
  // egress only, kIngress the destination pod's ingress only.
  bool allows(const Flow& flow, Direction side) const;
  // allows(flow), with the reasons.
  Verdict explain(const Flow& flow) const;

  const Pod* pod_at(Ipv4 address) const;
  const Pod* pod(std::string_view key) const;
  Status status() const;

 private:
  // A set of pod slots.
  class PodSet {
   public:
    bool test(uint32_t slot) const {
      return slot / 64 < words_.size() && ((words_[slot / 64] >> (slot % 64)) & 1) != 0;
    }
    void set(uint32_t slot, bool on);

   private:
    std::vector<uint64_t> words_;
  };

  struct PodSlot {
    bool live = false;
    Pod pod;
    std::optional<Ipv4> node_ip;
    std::vector<uint32_t> ingress;  // policy slots isolating it, by key
    std::vector<uint32_t> egress;
  };

  struct PolicySlot {
    bool live = false;
    std::string key;
    NetworkPolicy policy;
    std::vector<PodSet> ingress_peers;  // per rule: pods its selector peers choose
    std::vector<PodSet> egress_peers;
  };

  static constexpr uint32_t kNoPod = UINT32_MAX;

  uint32_t slot_at(Ipv4 address) const;
  const LabelMap& namespace_labels(const std::string& name) const;
  bool peer_selects(const NetworkPolicy& policy, const PolicyPeer& peer, const Pod& pod) const;
  bool rule_selects(const NetworkPolicy& policy, const PolicyRule& rule, const Pod& pod) const;
  // Rebuilds what depends on one pod: its isolating policies, its bits.
  void index_targets(uint32_t pod_slot);
  void index_peers(uint32_t pod_slot);
  void insert_sorted(std::vector<uint32_t>& list, uint32_t policy_slot) const;

  SideVerdict::Reason judge(uint32_t pod_slot, uint32_t peer_slot, const Flow& flow, Direction side,
                            SideVerdict* explain) const;
  SideVerdict judge_side(uint32_t pod_slot, uint32_t peer_slot, const Flow& flow, Direction side,
                         bool explain) const;

  std::map<std::string, LabelMap, std::less<>> namespaces_;
  std::map<std::string, Ipv4, std::less<>> nodes_;
  std::vector<PodSlot> pods_;
  std::vector<uint32_t> free_pods_;
  std::map<std::string, uint32_t, std::less<>> pod_by_key_;
  std::unordered_map<uint32_t, uint32_t> pod_by_ip_;  // lookups only
  std::map<std::string, std::set<uint32_t>, std::less<>> pods_by_namespace_;
  std::vector<PolicySlot> policies_;
  std::vector<uint32_t> free_policies_;
  std::map<std::string, uint32_t, std::less<>> policy_by_key_;
  std::map<std::string, std::set<uint32_t>, std::less<>> policies_by_namespace_;
};

}  // namespace loom::policy
