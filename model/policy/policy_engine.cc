#include "model/policy/policy_engine.h"

#include <algorithm>

namespace loom::policy {

namespace {

// Rule 14: ports are ORed; protocol and destination port must both match;
// a name resolves on the destination pod, never on an outside address.
bool ports_match(const std::vector<PolicyPort>& ports, const Flow& flow, const Pod* destination) {
  if (ports.empty()) return true;
  for (const PolicyPort& p : ports) {
    if (static_cast<uint8_t>(p.protocol) != flow.protocol) continue;
    if (!p.port_name.empty()) {
      if (destination != nullptr &&
          destination->named_port(p.port_name, p.protocol) == flow.dst_port)
        return true;
    } else if (!p.port) {
      return true;
    } else if (flow.dst_port >= *p.port && flow.dst_port <= p.end_port.value_or(*p.port)) {
      return true;
    }
  }
  return false;
}

// A free slot of `slots` (reused first), so that indices stay small.
template <typename Slot>
uint32_t take_slot(std::vector<Slot>& slots, std::vector<uint32_t>& free) {
  if (free.empty()) {
    slots.emplace_back();
    return static_cast<uint32_t>(slots.size() - 1);
  }
  const uint32_t slot = free.back();
  free.pop_back();
  return slot;
}

}  // namespace

void PolicyEngine::PodSet::set(uint32_t slot, bool on) {
  if (slot / 64 >= words_.size()) {
    if (!on) return;
    words_.resize(slot / 64 + 1);
  }
  const uint64_t bit = uint64_t{1} << (slot % 64);
  words_[slot / 64] = on ? words_[slot / 64] | bit : words_[slot / 64] & ~bit;
}

// --- the cluster -------------------------------------------------------------

void PolicyEngine::set_namespace(const std::string& name, LabelMap labels) {
  labels[std::string(kNamespaceNameLabel)] = name;
  namespaces_[name] = std::move(labels);
  // Namespace labels only matter to namespaceSelector peers.
  if (auto it = pods_by_namespace_.find(name); it != pods_by_namespace_.end()) {
    for (uint32_t slot : it->second) index_peers(slot);
  }
}

void PolicyEngine::set_node(const std::string& name, Ipv4 address) {
  nodes_[name] = address;
  for (PodSlot& slot : pods_) {
    if (slot.live && slot.pod.node == name) slot.node_ip = address;
  }
}

Result<void> PolicyEngine::set_pod(Pod pod) {
  const std::string key = pod.key();
  auto existing = pod_by_key_.find(key);
  if (auto holder = pod_by_ip_.find(pod.ip.value); holder != pod_by_ip_.end()) {
    if (existing == pod_by_key_.end() || existing->second != holder->second) {
      return make_error(key + ": " + pod.ip.to_string() + " is already the address of " +
                        pods_[holder->second].pod.key());
    }
  }
  if (!namespaces_.contains(pod.namespace_name)) set_namespace(pod.namespace_name, {});
  uint32_t slot;
  if (existing != pod_by_key_.end()) {
    slot = existing->second;
    pod_by_ip_.erase(pods_[slot].pod.ip.value);
  } else {
    slot = take_slot(pods_, free_pods_);
  }
  PodSlot& s = pods_[slot];
  s.live = true;
  s.node_ip.reset();
  if (auto node = nodes_.find(pod.node); !pod.node.empty() && node != nodes_.end())
    s.node_ip = node->second;
  s.pod = std::move(pod);
  pod_by_key_[key] = slot;
  pod_by_ip_[s.pod.ip.value] = slot;
  pods_by_namespace_[s.pod.namespace_name].insert(slot);
  index_targets(slot);
  index_peers(slot);
  return {};
}

bool PolicyEngine::remove_pod(std::string_view key) {
  auto it = pod_by_key_.find(key);
  if (it == pod_by_key_.end()) return false;
  const uint32_t slot = it->second;
  PodSlot& s = pods_[slot];
  pod_by_ip_.erase(s.pod.ip.value);
  pods_by_namespace_[s.pod.namespace_name].erase(slot);
  for (PolicySlot& p : policies_) {
    for (PodSet& set : p.ingress_peers) set.set(slot, false);
    for (PodSet& set : p.egress_peers) set.set(slot, false);
  }
  s = PodSlot{};
  pod_by_key_.erase(it);
  free_pods_.push_back(slot);
  return true;
}

Result<void> PolicyEngine::load(const Cluster& cluster) {
  for (const auto& [name, labels] : cluster.namespaces) set_namespace(name, labels);
  for (const auto& [name, address] : cluster.nodes) set_node(name, address);
  for (const Pod& pod : cluster.pods) {
    if (auto r = set_pod(pod); !r) return r;
  }
  return {};
}

// --- policies ----------------------------------------------------------------

void PolicyEngine::set_policy(NetworkPolicy policy) {
  std::string key = policy.key();
  remove_policy(key);
  const uint32_t id = take_slot(policies_, free_policies_);
  PolicySlot& p = policies_[id];
  p.live = true;
  p.key = std::move(key);
  p.policy = std::move(policy);
  p.ingress_peers.assign(p.policy.ingress.size(), PodSet{});
  p.egress_peers.assign(p.policy.egress.size(), PodSet{});
  for (uint32_t slot = 0; slot < pods_.size(); ++slot) {
    if (!pods_[slot].live) continue;
    const Pod& pod = pods_[slot].pod;
    for (size_t r = 0; r < p.policy.ingress.size(); ++r)
      p.ingress_peers[r].set(slot, rule_selects(p.policy, p.policy.ingress[r], pod));
    for (size_t r = 0; r < p.policy.egress.size(); ++r)
      p.egress_peers[r].set(slot, rule_selects(p.policy, p.policy.egress[r], pod));
  }
  policy_by_key_[p.key] = id;
  policies_by_namespace_[p.policy.namespace_name].insert(id);
  if (auto pods = pods_by_namespace_.find(p.policy.namespace_name);
      pods != pods_by_namespace_.end()) {
    for (uint32_t slot : pods->second) {
      if (!p.policy.pod_selector.matches(pods_[slot].pod.labels)) continue;
      if (p.policy.isolates_ingress) insert_sorted(pods_[slot].ingress, id);
      if (p.policy.isolates_egress) insert_sorted(pods_[slot].egress, id);
    }
  }
}

bool PolicyEngine::remove_policy(std::string_view key) {
  auto it = policy_by_key_.find(key);
  if (it == policy_by_key_.end()) return false;
  const uint32_t id = it->second;
  const std::string& ns = policies_[id].policy.namespace_name;
  if (auto pods = pods_by_namespace_.find(ns); pods != pods_by_namespace_.end()) {
    for (uint32_t slot : pods->second) {
      std::erase(pods_[slot].ingress, id);
      std::erase(pods_[slot].egress, id);
    }
  }
  policies_by_namespace_[ns].erase(id);
  policy_by_key_.erase(it);
  policies_[id] = PolicySlot{};
  free_policies_.push_back(id);
  return true;
}

// --- the index ---------------------------------------------------------------

const LabelMap& PolicyEngine::namespace_labels(const std::string& name) const {
  static const LabelMap kNone;
  auto it = namespaces_.find(name);
  return it == namespaces_.end() ? kNone : it->second;
}

bool PolicyEngine::peer_selects(const NetworkPolicy& policy, const PolicyPeer& peer,
                                const Pod& pod) const {
  if (peer.ip_block) return false;  // matched on addresses, at verdict time
  if (peer.namespace_selector) {
    // Rule 12: with a podSelector beside it, both must hold (AND).
    if (!peer.namespace_selector->matches(namespace_labels(pod.namespace_name))) return false;
  } else if (pod.namespace_name != policy.namespace_name) {
    return false;  // rule 13: no namespaceSelector means the policy's own namespace
  }
  return !peer.pod_selector || peer.pod_selector->matches(pod.labels);
}

bool PolicyEngine::rule_selects(const NetworkPolicy& policy, const PolicyRule& rule,
                                const Pod& pod) const {
  return std::any_of(rule.peers.begin(), rule.peers.end(),
                     [&](const PolicyPeer& peer) { return peer_selects(policy, peer, pod); });
}

void PolicyEngine::insert_sorted(std::vector<uint32_t>& list, uint32_t policy_slot) const {
  auto at = std::lower_bound(list.begin(), list.end(), policy_slot, [&](uint32_t a, uint32_t b) {
    return policies_[a].key < policies_[b].key;
  });
  list.insert(at, policy_slot);
}

void PolicyEngine::index_targets(uint32_t pod_slot) {
  PodSlot& s = pods_[pod_slot];
  s.ingress.clear();
  s.egress.clear();
  auto policies = policies_by_namespace_.find(s.pod.namespace_name);
  if (policies == policies_by_namespace_.end()) return;
  for (uint32_t id : policies->second) {
    const NetworkPolicy& p = policies_[id].policy;
    if (!p.pod_selector.matches(s.pod.labels)) continue;
    if (p.isolates_ingress) insert_sorted(s.ingress, id);
    if (p.isolates_egress) insert_sorted(s.egress, id);
  }
}

void PolicyEngine::index_peers(uint32_t pod_slot) {
  const Pod& pod = pods_[pod_slot].pod;
  for (PolicySlot& p : policies_) {
    if (!p.live) continue;
    for (size_t r = 0; r < p.policy.ingress.size(); ++r)
      p.ingress_peers[r].set(pod_slot, rule_selects(p.policy, p.policy.ingress[r], pod));
    for (size_t r = 0; r < p.policy.egress.size(); ++r)
      p.egress_peers[r].set(pod_slot, rule_selects(p.policy, p.policy.egress[r], pod));
  }
}

// --- decisions ---------------------------------------------------------------

uint32_t PolicyEngine::slot_at(Ipv4 address) const {
  auto it = pod_by_ip_.find(address.value);
  return it == pod_by_ip_.end() ? kNoPod : it->second;
}

// One side of section 6's evaluation. `pod_slot` is the side's pod (the
// destination for ingress, the source for egress), `peer_slot` the other
// end's pod or kNoPod. Fills `explain` when given; else stops early.
SideVerdict::Reason PolicyEngine::judge(uint32_t pod_slot, uint32_t peer_slot, const Flow& flow,
                                        Direction side, SideVerdict* explain) const {
  using Reason = SideVerdict::Reason;
  if (pod_slot == kNoPod) return Reason::kNotAPod;
  const PodSlot& s = pods_[pod_slot];
  const bool ingress = side == Direction::kIngress;
  const std::vector<uint32_t>& isolating = ingress ? s.ingress : s.egress;
  if (explain != nullptr) {
    for (uint32_t id : isolating) explain->policies.push_back(policies_[id].key);
  }
  if (pod_slot == peer_slot) return Reason::kSamePod;
  if (isolating.empty()) return Reason::kNotIsolated;
  const Ipv4 peer_ip = ingress ? flow.src : flow.dst;
  if (s.node_ip && *s.node_ip == peer_ip) return Reason::kNode;
  const Pod* destination =
      ingress ? &s.pod : (peer_slot == kNoPod ? nullptr : &pods_[peer_slot].pod);
  for (uint32_t id : isolating) {
    const PolicySlot& p = policies_[id];
    const std::vector<PolicyRule>& rules = ingress ? p.policy.ingress : p.policy.egress;
    const std::vector<PodSet>& peers = ingress ? p.ingress_peers : p.egress_peers;
    for (size_t r = 0; r < rules.size(); ++r) {
      const PolicyRule& rule = rules[r];
      if (!ports_match(rule.ports, flow, destination)) continue;
      const bool peer_ok =
          rule.peers.empty() || (peer_slot != kNoPod && peers[r].test(peer_slot)) ||
          std::any_of(rule.peers.begin(), rule.peers.end(), [&](const PolicyPeer& peer) {
            return peer.ip_block && peer.ip_block->contains(peer_ip);  // pod IPs too (rule 18)
          });
      if (!peer_ok) continue;
      if (explain != nullptr) {
        explain->allowed_by = p.key;
        explain->rule = r;
      }
      return Reason::kRule;
    }
  }
  return Reason::kNoRule;
}

SideVerdict PolicyEngine::judge_side(uint32_t pod_slot, uint32_t peer_slot, const Flow& flow,
                                     Direction side, bool explain) const {
  SideVerdict out;
  out.pod = pod_slot == kNoPod ? (side == Direction::kIngress ? flow.dst : flow.src).to_string()
                               : pods_[pod_slot].pod.key();
  out.reason = judge(pod_slot, peer_slot, flow, side, explain ? &out : nullptr);
  return out;
}

bool PolicyEngine::allows(const Flow& flow, Direction side) const {
  const uint32_t src = slot_at(flow.src);
  const uint32_t dst = slot_at(flow.dst);
  const bool ingress = side == Direction::kIngress;
  return judge(ingress ? dst : src, ingress ? src : dst, flow, side, nullptr) !=
         SideVerdict::Reason::kNoRule;
}

bool PolicyEngine::allows(const Flow& flow) const {
  const uint32_t src = slot_at(flow.src);
  const uint32_t dst = slot_at(flow.dst);
  return judge(src, dst, flow, Direction::kEgress, nullptr) != SideVerdict::Reason::kNoRule &&
         judge(dst, src, flow, Direction::kIngress, nullptr) != SideVerdict::Reason::kNoRule;
}

Verdict PolicyEngine::explain(const Flow& flow) const {
  const uint32_t src = slot_at(flow.src);
  const uint32_t dst = slot_at(flow.dst);
  Verdict out;
  out.egress = judge_side(src, dst, flow, Direction::kEgress, true);
  out.ingress = judge_side(dst, src, flow, Direction::kIngress, true);
  out.allowed = out.egress.allowed() && out.ingress.allowed();
  return out;
}

const Pod* PolicyEngine::pod_at(Ipv4 address) const {
  const uint32_t slot = slot_at(address);
  return slot == kNoPod ? nullptr : &pods_[slot].pod;
}

const Pod* PolicyEngine::pod(std::string_view key) const {
  auto it = pod_by_key_.find(key);
  return it == pod_by_key_.end() ? nullptr : &pods_[it->second].pod;
}

PolicyEngine::Status PolicyEngine::status() const {
  Status out;
  out.namespaces = namespaces_.size();
  out.nodes = nodes_.size();
  out.pods = pod_by_key_.size();
  out.policies = policy_by_key_.size();
  for (const PodSlot& s : pods_) {
    if (!s.live) continue;
    out.ingress_isolated_pods += s.ingress.empty() ? 0 : 1;
    out.egress_isolated_pods += s.egress.empty() ? 0 : 1;
  }
  return out;
}

}  // namespace loom::policy
