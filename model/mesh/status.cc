#include "model/mesh/status.h"

#include <sstream>

namespace loom::mesh {

nlohmann::json to_json(const MeshStatus& s) {
  nlohmann::json j;
  j["Name"] = s.name;
  j["NickName"] = s.nickname;
  j["UID"] = s.uid;
  j["Version"] = s.version;
  j["Protocol"] = s.protocol;
  j["Encryption"] = s.encryption;
  j["PeerDiscovery"] = s.peer_discovery;
  j["ConnLimit"] = s.conn_limit;
  j["Targets"] = s.direct_peers;
  j["ConnectionCounts"] = s.connection_counts;
  j["PeerCount"] = s.peer_count;
  j["EstablishedConnections"] = s.established_connections;
  auto& conns = j["Connections"] = nlohmann::json::array();
  for (const ConnectionStatus& c : s.connections) {
    conns.push_back({{"Address", c.address},
                     {"Outbound", c.outbound},
                     {"State", c.state},
                     {"Info", c.info},
                     {"Peer", c.peer}});
  }
  auto& peers = j["Peers"] = nlohmann::json::array();
  for (const PeerStatus& p : s.peers) {
    nlohmann::json pc = nlohmann::json::array();
    for (const PeerConnectionStatus& c : p.connections) {
      pc.push_back({{"Name", c.name},
                    {"NickName", c.nickname},
                    {"Address", c.address},
                    {"Outbound", c.outbound},
                    {"Established", c.established}});
    }
    peers.push_back({{"Name", p.name},
                     {"NickName", p.nickname},
                     {"UID", p.uid},
                     {"Version", p.version},
                     {"ShortID", p.short_id},
                     {"Connections", pc}});
  }
  j["Overlay"] = {{"Name", s.overlay.name}, {"Attributes", s.overlay.attributes}};
  j["Channels"] = s.channels;
  return j;
}

std::string render_text(const MeshStatus& s) {
  std::ostringstream out;
  size_t total = 0;
  for (const auto& [state, n] : s.connection_counts) total += n;
  out << "        Protocol: " << s.protocol << "\n";
  out << "            Name: " << s.name << "(" << s.nickname << ")\n";
  out << "      Encryption: " << s.encryption << "\n";
  out << "   PeerDiscovery: " << (s.peer_discovery ? "enabled" : "disabled") << "\n";
  out << "         Targets: " << s.targets << "\n";
  out << "     Connections: " << total;
  if (total > 0) {
    out << " (";
    bool first = true;
    for (const auto& [state, n] : s.connection_counts) {
      out << (first ? "" : ", ") << n << " " << state;
      first = false;
    }
    out << ")";
  }
  out << "\n";
  out << "           Peers: " << s.peer_count << " (with " << s.established_connections
      << " established connections)\n";
  return out.str();
}

}  // namespace loom::mesh
