#include "model/policy/reachability.h"

namespace loom::policy {

std::vector<Probe> reachability(const PolicyEngine& engine, const std::vector<Pod>& pods) {
  std::vector<Probe> out;
  for (const Pod& from : pods) {
    for (const Pod& to : pods) {
      if (&from == &to) continue;
      for (const ContainerPort& port : to.ports) {
        const Flow flow{from.ip, to.ip, static_cast<uint8_t>(port.protocol), kProbeSourcePort,
                        port.port};
        out.push_back({from.key(), to.key(), port.port, port.protocol, engine.allows(flow)});
      }
    }
  }
  return out;
}

nlohmann::ordered_json to_json(const std::vector<Probe>& probes) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Probe& p : probes) {
    list.push_back({{"from", p.from},
                    {"to", p.to},
                    {"port", p.port},
                    {"protocol", protocol_name(p.protocol)},
                    {"allowed", p.allowed}});
  }
  return {{"probes", std::move(list)}};
}

}  // namespace loom::policy
