// PeerView: what the allocator needs to know of the mesh around it
// (weave:prog/weaver/main.go passes Weave's allocator the same two things
// as closures: isKnownPeer and the targets its quorum is guessed from).
//
// A small interface so allocator tests can fake the mesh; MeshPeerView is
// the real one over a mesh::Mesh.
#pragma once

#include <cstddef>

#include "model/mesh/mesh.h"
#include "model/mesh/peer_name.h"

namespace loom::ipam {

class PeerView {
 public:
  virtual ~PeerView() = default;
  // Weave's isKnownPeer: the peer is in our topology. Mesh garbage-collects
  // peers it can no longer reach, so this is "reachable" a second or so
  // after a peer goes away. Status marks owners for whom it is false
  // "unreachable!"; shutdown prefers known heirs.
  virtual bool is_known(mesh::PeerName peer) const = 0;
  // How many direct peers we were told to connect to: without consensus=N
  // the quorum is guessed from it.
  virtual size_t target_count() const = 0;
};

// The PeerView of a running mesh. The mesh outlives it.
class MeshPeerView final : public PeerView {
 public:
  explicit MeshPeerView(const mesh::Mesh& mesh) : mesh_(mesh) {}
  bool is_known(mesh::PeerName peer) const override { return mesh_.peers().find(peer) != nullptr; }
  size_t target_count() const override { return mesh_.connection_maker().direct_peers().size(); }

 private:
  const mesh::Mesh& mesh_;
};

}  // namespace loom::ipam
