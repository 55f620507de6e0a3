// Gossip fanout (weave-protocol.md 1.7, mesh:routes.go randomNeighbours):
// which neighbours get a gossip message.
#pragma once

#include <vector>

#include "model/mesh/peer_name.h"
#include "model/mesh/routes.h"
#include "model/random.h"

namespace loom::mesh {

// Each neighbour weighs as many destinations as unicast_all routes through
// it; except (the peer the gossip came from) is never chosen. Draws min(2·log2(peers), neighbours)
// of them, weighted, without replacement. Deterministic given random; in draw order.
std::vector<PeerName> random_neighbours(const Routes& routes, PeerName except, Random& random);

}  // namespace loom::mesh
