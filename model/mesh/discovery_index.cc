#include "model/mesh/discovery_index.h"

namespace loom::mesh {

void DiscoveryIndex::forget(PeerName reporter) {
  auto it = by_reporter_.find(reporter);
  if (it == by_reporter_.end()) return;
  for (const auto& [remote, address] : it->second) {
    auto r = by_remote_.find(remote);
    auto a = r->second.find(address);
    if (--a->second == 0) {
      r->second.erase(a);
      if (r->second.empty()) by_remote_.erase(r);
    }
  }
  by_reporter_.erase(it);
}

void DiscoveryIndex::update(const Peers& peers, const PeerNameSet& names) {
  for (PeerName reporter : names) {
    if (reporter == ourselves_) continue;
    forget(reporter);
    const Peer* p = peers.find(reporter);
    if (p == nullptr || p->connections.empty()) continue;
    std::vector<Target>& targets = by_reporter_[reporter];
    targets.reserve(p->connections.size());
    for (const PeerConnection& c : p->connections) {
      if (c.remote == ourselves_) continue;
      // An inbound connection's remote port is ephemeral: the mesh port.
      const Endpoint address = c.outbound ? c.address : Endpoint{c.address.addr, mesh_port_};
      targets.emplace_back(c.remote, address);
      ++by_remote_[c.remote][address];
    }
  }
}

std::vector<KnownPeer> DiscoveryIndex::known_peers() const {
  std::vector<KnownPeer> out;
  out.reserve(by_remote_.size());
  for (const auto& [remote, addresses] : by_remote_) {
    KnownPeer k{PeerName{}, {}};
    k.connections.reserve(addresses.size());
    for (const auto& [address, count] : addresses) {
      k.connections.push_back(KnownConnection{remote, address, true});
    }
    out.push_back(std::move(k));
  }
  return out;
}

size_t DiscoveryIndex::size() const {
  size_t n = 0;
  for (const auto& [remote, addresses] : by_remote_) n += addresses.size();
  return n;
}

}  // namespace loom::mesh
