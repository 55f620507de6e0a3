#include "model/mesh/short_id.h"

#include <bitset>

namespace loom::mesh {

std::optional<PeerName> short_id_owner(const Peers& peers, ShortID id) {
  // all() is sorted by name, so the first holder is the lowest name.
  for (const Peer& p : peers.all()) {
    if (p.has_short_id && p.short_id == id) return p.name;
  }
  return std::nullopt;
}

bool lost_short_id(const Peers& peers) {
  const Peer& self = peers.local();
  if (!self.has_short_id) return false;
  const auto owner = short_id_owner(peers, self.short_id);
  return owner && *owner != self.name;
}

std::optional<ShortID> choose_short_id(const Peers& peers, Random& random) {
  std::bitset<kShortIdCount> used;
  for (const Peer& p : peers.all()) {
    if (p.has_short_id) used.set(p.short_id);
  }
  for (int attempt = 0; attempt < 10; ++attempt) {
    const auto id = static_cast<ShortID>(random.below(kShortIdCount));
    if (!used.test(id)) return id;
  }
  const size_t free = kShortIdCount - used.count();
  if (free == 0) return std::nullopt;
  size_t n = random.below(free);
  for (size_t id = 0; id < kShortIdCount; ++id) {
    if (used.test(id)) continue;
    if (n == 0) return static_cast<ShortID>(id);
    --n;
  }
  return std::nullopt;
}

}  // namespace loom::mesh
