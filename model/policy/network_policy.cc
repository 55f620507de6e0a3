#include "model/policy/network_policy.h"

#include <algorithm>

namespace loom::policy {

std::string_view protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "TCP";
    case Protocol::kUdp:
      return "UDP";
    case Protocol::kSctp:
      return "SCTP";
  }
  return "?";
}

std::optional<Protocol> parse_protocol(std::string_view text) {
  for (Protocol p : {Protocol::kTcp, Protocol::kUdp, Protocol::kSctp}) {
    if (text == protocol_name(p)) return p;
  }
  return std::nullopt;
}

bool IpBlock::contains(Ipv4 address) const {
  return cidr.contains(address) && std::none_of(except.begin(), except.end(), [&](const IpCidr& e) {
           return e.contains(address);
         });
}

}  // namespace loom::policy
