// Builders for hand-made topologies and updates (tests of peers, routes,
// fanout, short IDs).
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "model/mesh/peers.h"
#include "model/mesh/topology_update.h"

namespace loom::mesh::testing {

inline PeerName P(uint64_t n) { return PeerName(n); }

struct Record {
  PeerName name;
  PeerUID uid = 1;
  uint64_t version = 1;
  std::vector<PeerConnection> connections;  // any order
  std::string nickname = "n";
  ShortID short_id = 0;
  bool has_short_id = false;
};

inline PeerConnection conn(uint64_t remote, bool established = true, bool outbound = true) {
  return PeerConnection{P(remote),
                        Endpoint{Ipv4(0x0a000000u + static_cast<uint32_t>(remote)), 6783}, outbound,
                        established};
}

// Encodes records as one update, in the given order (duplicates allowed).
inline Bytes encode_records(std::vector<Record> records) {
  std::vector<PeerName> names;
  for (auto& r : records) {
    std::sort(r.connections.begin(), r.connections.end(),
              [](const PeerConnection& a, const PeerConnection& b) { return a.remote < b.remote; });
    names.push_back(r.name);
    for (const auto& c : r.connections) names.push_back(c.remote);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  auto index_of = [&](PeerName n) {
    return static_cast<size_t>(std::lower_bound(names.begin(), names.end(), n) - names.begin());
  };
  TopologyUpdateWriter w(names, records.size());
  for (const auto& r : records) {
    w.add(PeerSummary{r.name, r.nickname, r.uid, r.version, r.short_id, r.has_short_id},
          r.connections, index_of);
  }
  return std::move(w).finish();
}

// A topology as seen by `us`: every peer's connections given as a list of
// remotes. Our own are added locally; the others arrive as one update.
inline Peers make_topology(uint64_t us,
                           const std::map<uint64_t, std::vector<PeerConnection>>& edges) {
  Peers peers(P(us), "us", 1000 + us);
  std::vector<Record> records;
  for (const auto& [name, conns] : edges) {
    if (name == us) {
      for (const auto& c : conns)
        peers.add_connection(c.remote, c.address, c.outbound, c.established);
    } else {
      records.push_back(Record{P(name), 1000 + name, 1, conns, "n", 0, false});
    }
  }
  auto r = peers.merge(encode_records(records));
  if (!r.ok()) std::abort();
  return peers;
}

// Undirected established edges between consecutive pairs.
inline std::map<uint64_t, std::vector<PeerConnection>> symmetric(
    const std::vector<std::pair<uint64_t, uint64_t>>& links) {
  std::map<uint64_t, std::vector<PeerConnection>> edges;
  for (auto [a, b] : links) {
    edges[a].push_back(conn(b));
    edges[b].push_back(conn(a));
  }
  return edges;
}

}  // namespace loom::mesh::testing
