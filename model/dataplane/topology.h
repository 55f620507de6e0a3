// Topology: what the data plane needs to know of the mesh, as a narrow
// interface the data plane owns (design.md: engines talk through narrow
// interfaces). Weave's router reads mesh's Routes and Peers directly; here
// MeshTopology adapts a mesh::Mesh, and StaticTopology serves tests and a
// peer that is not in a mesh (a Linux vxlan device).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "model/mesh/peer_name.h"

namespace loom::mesh {
class Mesh;
}

namespace loom::dataplane {

using mesh::PeerName;
using mesh::ShortID;

class Topology {
 public:
  virtual ~Topology() = default;
  virtual PeerName ourselves() const = 0;
  // Over established, symmetric connections only (weave-protocol.md 3.6):
  // the next hop toward dst, none when unreachable (or dst is us).
  virtual std::optional<PeerName> unicast_next_hop(PeerName dst) = 0;
  // Whom a broadcast from src is passed on to from here (its tree).
  virtual std::vector<PeerName> broadcast_next_hops(PeerName src) = 0;
  virtual bool known(PeerName peer) const = 0;
  // fastdp's 12-bit IDs: none for a peer without one (or unknown).
  virtual std::optional<ShortID> short_id(PeerName peer) const = 0;
  virtual std::optional<PeerName> peer_with_short_id(ShortID id) const = 0;
};

// A mesh::Mesh's routes and peers. The mesh must outlive it.
class MeshTopology final : public Topology {
 public:
  explicit MeshTopology(mesh::Mesh& mesh) : mesh_(mesh) {}
  PeerName ourselves() const override;
  std::optional<PeerName> unicast_next_hop(PeerName dst) override;
  std::vector<PeerName> broadcast_next_hops(PeerName src) override;
  bool known(PeerName peer) const override;
  std::optional<ShortID> short_id(PeerName peer) const override;
  std::optional<PeerName> peer_with_short_id(ShortID id) const override;

 private:
  mesh::Mesh& mesh_;
  // Last owner found per short ID, checked against the peers on every use
  // (mesh reports no short-ID changes to us), scanned for on a miss.
  mutable std::array<PeerName, size_t{1} << mesh::kShortIDBits> owners_{};
};

// Ourselves and direct neighbours, every one a next hop of its own; no
// relaying. Short IDs as given.
class StaticTopology final : public Topology {
 public:
  struct Neighbour {
    PeerName name;
    std::optional<ShortID> short_id;
  };
  StaticTopology(PeerName ourselves, std::optional<ShortID> our_short_id,
                 std::vector<Neighbour> neighbours)
      : ourselves_(ourselves), our_short_id_(our_short_id), neighbours_(std::move(neighbours)) {}
  PeerName ourselves() const override { return ourselves_; }
  std::optional<PeerName> unicast_next_hop(PeerName dst) override;
  std::vector<PeerName> broadcast_next_hops(PeerName src) override;
  bool known(PeerName peer) const override;
  std::optional<ShortID> short_id(PeerName peer) const override;
  std::optional<PeerName> peer_with_short_id(ShortID id) const override;

 private:
  PeerName ourselves_;
  std::optional<ShortID> our_short_id_;
  std::vector<Neighbour> neighbours_;
};

}  // namespace loom::dataplane
