#include "model/mesh/discovery_index.h"

#include <algorithm>

namespace loom::mesh {

void DiscoveryIndex::add(const Target& t) {
  if (++by_remote_[t.first][t.second] == 1) ++version_;
}

void DiscoveryIndex::remove(const Target& t) {
  auto r = by_remote_.find(t.first);
  auto a = r->second.find(t.second);
  if (--a->second == 0) {
    ++version_;
    r->second.erase(a);
    if (r->second.empty()) by_remote_.erase(r);
  }
}

void DiscoveryIndex::update(const Peers& peers, const PeerNameSet& names) {
  std::vector<Target> now;
  for (PeerName reporter : names) {
    if (reporter == ourselves_) continue;
    now.clear();
    if (const Peer* p = peers.find(reporter)) {
      now.reserve(p->connections.size());
      for (const PeerConnection& c : p->connections) {
        if (c.remote == ourselves_) continue;
        // An inbound connection's remote port is ephemeral: the mesh port.
        now.emplace_back(c.remote, c.outbound ? c.address : Endpoint{c.address.addr, mesh_port_});
      }
    }
    // Connections are sorted by remote, one per remote: so are both lists.
    // Only what differs touches the index.
    auto it = by_reporter_.find(reporter);
    static const std::vector<Target> kNone;
    const std::vector<Target>& before = it == by_reporter_.end() ? kNone : it->second;
    size_t b = 0, n = 0;
    while (b < before.size() || n < now.size()) {
      if (n == now.size() || (b < before.size() && before[b] < now[n])) {
        remove(before[b++]);
      } else if (b == before.size() || now[n] < before[b]) {
        add(now[n++]);
      } else {
        ++b;
        ++n;
      }
    }
    if (now.empty()) {
      if (it != by_reporter_.end()) by_reporter_.erase(it);
    } else if (it == by_reporter_.end()) {
      by_reporter_.emplace(reporter, now);
    } else {
      it->second.assign(now.begin(), now.end());
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
