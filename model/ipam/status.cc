#include "model/ipam/status.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

namespace loom::ipam {
namespace {

// Weave's allIPAMOwnersUnreachable: no range with addresses has a known
// owner. (Our own entries count as known: we are in our own topology.)
bool all_owners_unreachable(const IpamStatus& s) {
  return std::none_of(s.entries.begin(), s.entries.end(),
                      [](const EntryStatus& e) { return e.size > 0 && e.is_known_peer; });
}

}  // namespace

std::string state_text(const IpamStatus& s) {
  if (!s.entries.empty()) {
    if (all_owners_unreachable(s)) {
      return "all IP ranges owned by unreachable peers - use 'rmpeer' if they are dead";
    }
    if (!s.pending_allocates.empty()) return "waiting for IP range grant from peers";
    return "ready";
  }
  if (s.paxos) {
    if (!s.paxos->elector) return "priming";
    return "awaiting consensus (quorum: " + std::to_string(s.paxos->quorum) +
           ", known: " + std::to_string(s.paxos->known_nodes) + ")";
  }
  return "idle";
}

std::vector<OwnerSummary> summarise_owners(const IpamStatus& s) {
  std::map<std::string, OwnerSummary> by_peer;  // sorted by name
  for (const EntryStatus& e : s.entries) {
    auto [it, added] = by_peer.try_emplace(e.peer);
    if (added) {
      it->second.peer = e.peer;
      it->second.nickname = e.nickname;
      it->second.reachable = e.is_known_peer;
    }
    it->second.ips += e.size;
  }
  std::vector<OwnerSummary> out;
  out.reserve(by_peer.size());
  if (auto ours = by_peer.find(s.name); ours != by_peer.end()) {
    out.push_back(ours->second);
    by_peer.erase(ours);
  }
  for (auto& [peer, summary] : by_peer) out.push_back(std::move(summary));
  return out;
}

size_t unreachable_count(const IpamStatus& s) {
  size_t n = 0;
  for (const OwnerSummary& o : summarise_owners(s)) n += o.reachable ? 0 : 1;
  return n;
}

double unreachable_percentage(const IpamStatus& s) {
  if (s.range_num_ips == 0) return 0;
  uint64_t ips = 0;
  for (const OwnerSummary& o : summarise_owners(s)) ips += o.reachable ? 0 : o.ips;
  return static_cast<double>(ips) * 100.0 / static_cast<double>(s.range_num_ips);
}

nlohmann::json to_json(const IpamStatus& s) {
  nlohmann::json j;
  if (s.paxos) {
    j["Paxos"] = {{"Elector", s.paxos->elector},
                  {"KnownNodes", s.paxos->known_nodes},
                  {"Quorum", s.paxos->quorum}};
  } else {
    j["Paxos"] = nullptr;
  }
  j["Range"] = s.range;
  j["RangeNumIPs"] = s.range_num_ips;
  j["ActiveIPs"] = s.active_ips;
  j["DefaultSubnet"] = s.default_subnet;
  auto& entries = j["Entries"] = nlohmann::json::array();
  for (const EntryStatus& e : s.entries) {
    entries.push_back({{"Token", e.token},
                       {"Size", e.size},
                       {"Peer", e.peer},
                       {"Nickname", e.nickname},
                       {"IsKnownPeer", e.is_known_peer},
                       {"Version", e.version}});
  }
  auto& claims = j["PendingClaims"] = nlohmann::json::array();
  for (const ClaimStatus& c : s.pending_claims) {
    claims.push_back({{"Ident", c.ident}, {"CIDR", c.cidr}});
  }
  j["PendingAllocates"] = s.pending_allocates;
  j["Status"] = state_text(s);  // ours: what the text template computes
  return j;
}

std::string render_text(const IpamStatus& s) {
  std::ostringstream out;
  out << "        Service: ipam\n";
  out << "         Status: " << state_text(s) << "\n";
  out << "          Range: " << s.range << "\n";
  out << "  DefaultSubnet: " << s.default_subnet << "\n";
  return out.str();
}

std::string render_ranges(const IpamStatus& s) {
  std::string out;
  char line[512];
  for (const OwnerSummary& o : summarise_owners(s)) {
    std::string info;
    if (o.peer == s.name) {
      info = "(";
      info += std::to_string(s.active_ips);
      info += " active)";
    } else if (!o.reachable) {
      info = "- unreachable!";
    }
    // Weave: "%-37v %8d IPs (%04.1f%% of total) %s\n", in float32.
    const float percent = s.range_num_ips == 0 ? 0.0F
                                               : static_cast<float>(o.ips) * 100.0F /
                                                     static_cast<float>(s.range_num_ips);
    std::string name = o.peer;
    name += '(';
    name += o.nickname;
    name += ')';
    std::snprintf(line, sizeof line, "%-37s %8llu IPs (%04.1f%% of total) %s\n", name.c_str(),
                  static_cast<unsigned long long>(o.ips), static_cast<double>(percent),
                  info.c_str());
    out += line;
  }
  return out;
}

}  // namespace loom::ipam
