// IpamStatus: what `weave status` (its ipam block), `weave status ipam` and
// `weave report` show of the allocator (weave:ipam/status.go,
// weave:prog/weaver/http.go, metrics.go; weave-protocol.md section 7), as a
// plain struct with a JSON form and Weave's text layouts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::ipam {

// Present only while consensus is being sought (Weave's Paxos status).
struct PaxosStatus {
  bool elector = false;  // false: an observer, "priming"
  size_t known_nodes = 0;
  unsigned quorum = 0;
};

// One range of the ring (split at the universe's end).
struct EntryStatus {
  std::string token;  // its first address
  uint32_t size = 0;
  std::string peer;
  std::string nickname;
  bool is_known_peer = false;  // reachable: "- unreachable!" when false
  uint32_t version = 0;
};

struct ClaimStatus {
  std::string ident;
  std::string cidr;
};

struct IpamStatus {
  std::string name;  // ours, so `weave status ipam` can put us first
  std::string nickname;
  std::optional<PaxosStatus> paxos;
  std::string range;  // the universe as a CIDR
  uint64_t range_num_ips = 0;
  uint64_t active_ips = 0;  // allocated here
  std::string default_subnet;
  std::vector<EntryStatus> entries;
  std::vector<ClaimStatus> pending_claims;
  std::vector<std::string> pending_allocates;  // "ident subnet"
};

// Weave's Status line: idle, "awaiting consensus (quorum: Q, known: K)",
// priming, ready, "waiting for IP range grant from peers", or "all IP
// ranges owned by unreachable peers - use 'rmpeer' if they are dead".
std::string state_text(const IpamStatus& status);

// The owners of the ring, summed over their ranges: what `weave status
// ipam` lists and the weave_ipam_unreachable_* metrics count.
struct OwnerSummary {
  std::string peer;
  std::string nickname;
  uint64_t ips = 0;
  bool reachable = false;
};
// Ours first, then the others by name.
std::vector<OwnerSummary> summarise_owners(const IpamStatus& status);
// Owners that are unreachable, and their share of the universe in percent.
size_t unreachable_count(const IpamStatus& status);
double unreachable_percentage(const IpamStatus& status);

// `weave report`'s IPAM object (Weave's field names).
nlohmann::json to_json(const IpamStatus& status);
// The ipam block of `weave status`:
//         Service: ipam
//          Status: ready
//           Range: 10.32.0.0/12
//   DefaultSubnet: 10.32.0.0/12
std::string render_text(const IpamStatus& status);
// `weave status ipam`: one line per owner, ours first with its active
// count, unreachable owners marked:
//   0a:00:00:00:00:01(peer0)                  1024 IPs (50.0% of total) (3 active)
std::string render_ranges(const IpamStatus& status);

}  // namespace loom::ipam
