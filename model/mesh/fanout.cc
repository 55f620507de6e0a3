#include "model/mesh/fanout.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

namespace loom::mesh {

std::vector<PeerName> random_neighbours(const Routes& routes, PeerName except, Random& random) {
  // Ordered by name, so the draw depends only on the topology and random.
  std::vector<std::pair<PeerName, uint64_t>> weights =
      routes.next_hop_counts(Routes::Over::all_connections);
  size_t table_size = 1;  // Weave counts its own entry in unicastAll
  for (const auto& [hop, count] : weights) table_size += count;
  weights.erase(std::remove_if(weights.begin(), weights.end(),
                               [&](const auto& w) { return w.first == except; }),
                weights.end());
  const auto wanted = static_cast<size_t>(2 * std::log2(static_cast<double>(table_size)));
  const size_t needed = std::min(wanted, weights.size());
  uint64_t total = 0;
  for (const auto& [hop, count] : weights) total += count;

  std::vector<PeerName> chosen;
  chosen.reserve(needed);
  while (chosen.size() < needed && total > 0) {
    uint64_t pick = random.below(total);
    for (auto it = weights.begin(); it != weights.end(); ++it) {
      if (pick < it->second) {
        chosen.push_back(it->first);
        total -= it->second;
        weights.erase(it);
        break;
      }
      pick -= it->second;
    }
  }
  return chosen;
}

}  // namespace loom::mesh
