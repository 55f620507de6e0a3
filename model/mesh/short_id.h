// Short IDs (weave-protocol.md 1.12): the 12-bit peer IDs fastdp puts in
// VXLAN headers. Derived from the topology: who owns an ID, whether we lost
// ours to a collision, and picking a free one.
#pragma once

#include <optional>
#include <vector>

#include "model/mesh/peer_name.h"
#include "model/mesh/peers.h"
#include "model/random.h"

namespace loom::mesh {

inline constexpr size_t kShortIdCount = size_t{1} << kShortIDBits;

// The peer that holds id: on a collision, the lowest name keeps it.
std::optional<PeerName> short_id_owner(const Peers& peers, ShortID id);

// True when we have a short ID and a peer with a lower name has the same one:
// we must pick another (choose_short_id, then Peers::set_short_id).
bool lost_short_id(const Peers& peers);

// A free ID: up to 10 uniform tries, then uniform among the free IDs. None
// when all 4096 are taken. Deterministic given random.
std::optional<ShortID> choose_short_id(const Peers& peers, Random& random);

}  // namespace loom::mesh
