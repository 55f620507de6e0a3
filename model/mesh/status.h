// MeshStatus: what `weave status`, `weave status peers`, `weave status
// connections` and `weave status targets` show of the mesh (mesh:status.go;
// weave-protocol.md 1.11, 7), as a plain struct with a JSON form.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/mesh/overlay.h"

namespace loom::mesh {

// A row of `weave status connections`: one of our connections, or a target
// not connected ("-> 10.0.0.3:6783 failed  Connection refused, retry: ...").
struct ConnectionStatus {
  bool outbound = true;
  std::string address;  // ip:port
  std::string state;    // connecting, pending, established, failed, retrying, waiting
  std::string info;     // the overlay's attrs and "encrypted", or the last error
  std::string peer;     // name(nickname), once known
};

// One announced connection of a peer (`weave status peers`).
struct PeerConnectionStatus {
  std::string name;
  std::string nickname;
  std::string address;
  bool outbound = false;
  bool established = false;
};

struct PeerStatus {
  std::string name;
  std::string nickname;
  uint64_t uid = 0;
  uint64_t version = 0;
  uint16_t short_id = 0;
  std::vector<PeerConnectionStatus> connections;
};

struct MeshStatus {
  // `weave status` (the router section).
  std::string name;
  std::string nickname;
  uint64_t uid = 0;
  uint64_t version = 0;
  std::string protocol;    // "weave 1..2"
  std::string encryption;  // "enabled", "disabled"
  bool peer_discovery = true;
  size_t conn_limit = 0;
  size_t targets = 0;  // direct peers
  // Our connections and unconnected targets by state.
  std::map<std::string, size_t> connection_counts;
  size_t peer_count = 0;
  size_t established_connections = 0;  // over all peers, as announced
  // `weave status targets`, `connections`, `peers`.
  std::vector<std::string> direct_peers;
  std::vector<ConnectionStatus> connections;
  std::vector<PeerStatus> peers;
  OverlayStatus overlay;
  // Gossip channels in use.
  std::vector<std::string> channels;
};

nlohmann::json to_json(const MeshStatus& status);
// `weave status` text (router section), one line per field.
std::string render_text(const MeshStatus& status);

}  // namespace loom::mesh
