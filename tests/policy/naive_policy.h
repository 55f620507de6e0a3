// NaivePolicy: netpol-semantics.md section 6 read literally, as an oracle
// for the compiled engine (policy_property_test) and the reference its
// speed is measured against (bench_policy). Every verdict scans every
// policy and evaluates every selector; only pods are found by address.
#pragma once

#include <algorithm>
#include <map>
#include <unordered_map>
#include <vector>

#include "model/policy/cluster.h"
#include "model/policy/network_policy.h"
#include "model/policy/verdict.h"

namespace loom::policy::testing {

class NaivePolicy {
 public:
  NaivePolicy(const Cluster& cluster, const std::vector<NetworkPolicy>& policies)
      : cluster_(cluster), policies_(policies) {
    for (const Pod& p : cluster.pods) {
      pods_by_ip_[p.ip.value] = &p;
      namespaces_[p.namespace_name][std::string(kNamespaceNameLabel)] = p.namespace_name;
    }
    for (const auto& [name, labels] : cluster.namespaces) {
      namespaces_[name] = labels;
      namespaces_[name][std::string(kNamespaceNameLabel)] = name;
    }
  }

  bool allows(const Flow& flow) const {
    const Pod* src = find(flow.src);
    const Pod* dst = find(flow.dst);
    if (src != nullptr && src == dst) return true;
    return side_allows(src, dst, flow, /*ingress=*/false) &&
           side_allows(dst, src, flow, /*ingress=*/true);
  }

 private:
  const Pod* find(Ipv4 ip) const {
    auto it = pods_by_ip_.find(ip.value);
    return it == pods_by_ip_.end() ? nullptr : it->second;
  }

  const LabelMap& namespace_labels(const std::string& ns) const {
    static const LabelMap kNone;
    auto it = namespaces_.find(ns);
    return it == namespaces_.end() ? kNone : it->second;
  }

  bool side_allows(const Pod* pod, const Pod* peer, const Flow& flow, bool ingress) const {
    if (pod == nullptr) return true;
    const Ipv4 peer_ip = ingress ? flow.src : flow.dst;
    if (auto node = cluster_.nodes.find(pod->node);
        node != cluster_.nodes.end() && node->second == peer_ip)
      return true;
    bool isolated = false;
    for (const NetworkPolicy& p : policies_) {
      if (p.namespace_name != pod->namespace_name || !p.pod_selector.matches(pod->labels)) continue;
      if (!(ingress ? p.isolates_ingress : p.isolates_egress)) continue;
      isolated = true;
      for (const PolicyRule& rule : ingress ? p.ingress : p.egress) {
        if (ports_match(rule, flow, ingress ? pod : peer) && peers_match(p, rule, peer, peer_ip))
          return true;
      }
    }
    return !isolated;
  }

  static bool ports_match(const PolicyRule& rule, const Flow& flow, const Pod* destination) {
    if (rule.ports.empty()) return true;
    return std::any_of(rule.ports.begin(), rule.ports.end(), [&](const PolicyPort& p) {
      if (static_cast<uint8_t>(p.protocol) != flow.protocol) return false;
      if (!p.port_name.empty()) {
        return destination != nullptr &&
               destination->named_port(p.port_name, p.protocol) == flow.dst_port;
      }
      if (!p.port) return true;
      return flow.dst_port >= *p.port && flow.dst_port <= p.end_port.value_or(*p.port);
    });
  }

  bool peers_match(const NetworkPolicy& policy, const PolicyRule& rule, const Pod* peer,
                   Ipv4 peer_ip) const {
    if (rule.peers.empty()) return true;
    return std::any_of(rule.peers.begin(), rule.peers.end(), [&](const PolicyPeer& p) {
      if (p.ip_block) return p.ip_block->contains(peer_ip);
      if (peer == nullptr) return false;
      const bool namespace_ok =
          p.namespace_selector
              ? p.namespace_selector->matches(namespace_labels(peer->namespace_name))
              : peer->namespace_name == policy.namespace_name;
      return namespace_ok && (!p.pod_selector || p.pod_selector->matches(peer->labels));
    });
  }

  const Cluster& cluster_;
  const std::vector<NetworkPolicy>& policies_;
  std::unordered_map<uint32_t, const Pod*> pods_by_ip_;
  std::map<std::string, LabelMap> namespaces_;  // with the name label
};

}  // namespace loom::policy::testing
