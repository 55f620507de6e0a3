// NetworkPolicy (networking.k8s.io/v1) as the engine reads it: validated,
// with the API server's defaults applied (netpol-semantics.md 1-4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/policy/ip_cidr.h"
#include "model/policy/labels.h"

namespace loom::policy {

// IP protocol numbers, as packets carry them.
enum class Protocol : uint8_t { kTcp = 6, kUdp = 17, kSctp = 132 };

// "TCP", "UDP", "SCTP".
std::string_view protocol_name(Protocol p);
// Exactly as Kubernetes spells them (upper case); none otherwise.
std::optional<Protocol> parse_protocol(std::string_view text);

// One entry of a rule's `ports`. Without a port it matches every port of
// its protocol; a named port is resolved on the destination pod (rule 14).
struct PolicyPort {
  Protocol protocol = Protocol::kTcp;
  std::optional<uint16_t> port;      // a number ...
  std::optional<uint16_t> end_port;  // ... and, with endPort, the inclusive range up to it
  std::string port_name;             // ... or a name (then `port` is empty)
};

struct IpBlock {
  IpCidr cidr;
  std::vector<IpCidr> except;

  bool contains(Ipv4 address) const;
};

// One entry of `from`/`to`: selectors, or an ipBlock alone (rule 12).
// An absent namespaceSelector means the policy's own namespace; an empty
// one means every namespace (rule 13).
struct PolicyPeer {
  std::optional<LabelSelector> pod_selector;
  std::optional<LabelSelector> namespace_selector;
  std::optional<IpBlock> ip_block;
};

// An ingress or egress rule: ports AND peers; entries of each ORed; an
// empty list matches everything (rules 10-11).
struct PolicyRule {
  std::vector<PolicyPort> ports;
  std::vector<PolicyPeer> peers;
};

struct NetworkPolicy {
  std::string namespace_name = "default";
  std::string name;
  LabelSelector pod_selector;  // absent is empty: every pod of the namespace
  std::vector<PolicyRule> ingress;
  std::vector<PolicyRule> egress;
  // Effective policyTypes, defaulted as the API server does (rule 7).
  bool isolates_ingress = true;
  bool isolates_egress = false;

  // "namespace/name"
  std::string key() const { return namespace_name + "/" + name; }
};

}  // namespace loom::policy
