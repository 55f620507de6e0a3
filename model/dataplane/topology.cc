#include "model/dataplane/topology.h"

#include "model/mesh/mesh.h"
#include "model/mesh/short_id.h"

namespace loom::dataplane {

// ---- MeshTopology -----------------------------------------------------------

PeerName MeshTopology::ourselves() const { return mesh_.name(); }

std::optional<PeerName> MeshTopology::unicast_next_hop(PeerName dst) {
  return mesh_.routes().unicast(dst);
}

std::vector<PeerName> MeshTopology::broadcast_next_hops(PeerName src) {
  return mesh_.routes().broadcast(src);
}

bool MeshTopology::known(PeerName peer) const { return mesh_.peers().find(peer) != nullptr; }

std::optional<ShortID> MeshTopology::short_id(PeerName peer) const {
  const mesh::Peer* p = mesh_.peers().find(peer);
  if (p == nullptr || !p->has_short_id) return std::nullopt;
  return p->short_id;
}

std::optional<PeerName> MeshTopology::peer_with_short_id(ShortID id) const {
  id &= static_cast<ShortID>(owners_.size() - 1);
  PeerName& cached = owners_[id];
  if (!cached.is_unknown()) {
    const mesh::Peer* p = mesh_.peers().find(cached);
    if (p != nullptr && p->has_short_id && p->short_id == id) return cached;
  }
  auto owner = mesh::short_id_owner(mesh_.peers(), id);
  cached = owner.value_or(PeerName{});
  return owner;
}

// ---- StaticTopology -----------------------------------------------------------

std::optional<PeerName> StaticTopology::unicast_next_hop(PeerName dst) {
  return known(dst) && dst != ourselves_ ? std::optional<PeerName>(dst) : std::nullopt;
}

std::vector<PeerName> StaticTopology::broadcast_next_hops(PeerName src) {
  std::vector<PeerName> out;
  if (src != ourselves_) return out;  // neighbours do not relay for each other
  for (const Neighbour& n : neighbours_) out.push_back(n.name);
  return out;
}

bool StaticTopology::known(PeerName peer) const {
  if (peer == ourselves_) return true;
  for (const Neighbour& n : neighbours_) {
    if (n.name == peer) return true;
  }
  return false;
}

std::optional<ShortID> StaticTopology::short_id(PeerName peer) const {
  if (peer == ourselves_) return our_short_id_;
  for (const Neighbour& n : neighbours_) {
    if (n.name == peer) return n.short_id;
  }
  return std::nullopt;
}

std::optional<PeerName> StaticTopology::peer_with_short_id(ShortID id) const {
  if (our_short_id_ == id) return ourselves_;
  for (const Neighbour& n : neighbours_) {
    if (n.short_id == id) return n.name;
  }
  return std::nullopt;
}

}  // namespace loom::dataplane
