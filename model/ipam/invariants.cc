#include "model/ipam/invariants.h"

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "model/ipam/range_set.h"

namespace loom::ipam {
namespace {

constexpr size_t kMaxDetails = 20;

// Every stretch of addresses covered by two or more owners' ranges, with
// the owners, adjacent stretches of the same owners joined.
std::vector<Overlap> overlaps(const std::vector<std::pair<Range, size_t>>& ranges,
                              const std::vector<PeerName>& names) {
  struct Event {
    uint64_t at;
    bool start;
    size_t who;
  };
  std::vector<Event> events;
  events.reserve(ranges.size() * 2);
  for (const auto& [r, who] : ranges) {
    if (r.empty()) continue;
    events.push_back({r.start, true, who});
    events.push_back({r.end, false, who});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    if (a.at != b.at) return a.at < b.at;
    return !a.start && b.start;  // ends first: [a, b) and [b, c) do not overlap
  });
  std::vector<Overlap> out;
  std::multiset<size_t> active;
  uint64_t prev = 0;
  for (const Event& e : events) {
    if (e.at > prev) {
      std::set<PeerName> owners;
      for (size_t who : active) owners.insert(names[who]);
      if (owners.size() >= 2) {
        std::vector<PeerName> peers(owners.begin(), owners.end());
        const Range seg{static_cast<Address>(prev), static_cast<Address>(e.at)};
        if (!out.empty() && out.back().range.end == seg.start && out.back().peers == peers) {
          out.back().range.end = seg.end;
        } else {
          out.push_back(Overlap{seg, std::move(peers)});
        }
      }
    }
    prev = e.at;
    if (e.start) {
      active.insert(e.who);
    } else {
      active.erase(active.find(e.who));
    }
  }
  return out;
}

std::string peer_list(const std::vector<PeerName>& peers) {
  std::string out;
  for (PeerName p : peers) {
    if (!out.empty()) out += ", ";
    out += p.to_string();
  }
  return out;
}

bool same_ring(const std::optional<Ring>& a, const std::optional<Ring>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->entries() == b->entries() && a->seeds() == b->seeds();
}

}  // namespace

InvariantReport check_invariants(const InvariantInput& input) {
  InvariantReport report;
  const auto& peers = input.peers;
  report.peers = peers.size();
  auto detail = [&](const std::string& text) {
    if (report.details.size() < kMaxDetails) report.details.push_back(text);
  };
  std::vector<PeerName> names;
  names.reserve(peers.size());
  for (const AllocatorSnapshot& p : peers) names.push_back(p.name);

  // Groups: who can reach whom.
  std::map<PeerName, size_t> group_of;
  if (input.groups.empty()) {
    for (PeerName n : names) group_of[n] = 0;
  } else {
    for (size_t g = 0; g < input.groups.size(); ++g) {
      for (PeerName n : input.groups[g]) group_of[n] = g;
    }
  }
  size_t next_group = input.groups.empty() ? 1 : input.groups.size();
  for (PeerName n : names) {
    if (group_of.find(n) == group_of.end()) group_of[n] = next_group++;
  }

  // Duplicate ownership.
  std::vector<std::pair<Range, size_t>> held;
  for (size_t i = 0; i < peers.size(); ++i) {
    for (const Range& r : peers[i].space) held.emplace_back(r, i);
  }
  report.duplicate_ownership = overlaps(held, names);
  for (const Overlap& o : report.duplicate_ownership) {
    report.duplicate_owned_addresses += o.range.size();
    detail("duplicate ownership: " + o.range.to_string() + " held by " + peer_list(o.peers));
  }

  // Overlapping allocations: holders are (peer, ident), from the
  // allocators' records and from what running containers use.
  std::map<Address, std::set<std::string>> holders;
  for (const AllocatorSnapshot& p : peers) {
    for (const auto& [address, ident] : p.idents) {
      holders[address].insert(p.name.to_string() + " " + ident);
    }
  }
  for (const Workload& w : input.workloads) {
    holders[w.address].insert(w.peer.to_string() + " " + w.ident);
  }
  for (auto& [address, who] : holders) {
    if (who.size() < 2) continue;
    DuplicateAddress d{address, std::vector<std::string>(who.begin(), who.end())};
    std::string list;
    for (const std::string& h : d.holders) {
      if (!list.empty()) list += ", ";
      list += h;
    }
    detail("duplicate address: " + format_address(address) + " held by " + list);
    report.overlapping_allocations.push_back(std::move(d));
  }
  report.duplicate_allocated_addresses = report.overlapping_allocations.size();

  for (const AllocatorSnapshot& p : peers) {
    if (!p.ring) {
      for (const Range& r : p.allocated) {
        report.allocated_outside_owned += r.size();
        detail("allocated without a ring: " + r.to_string() + " on " + p.name.to_string());
      }
      continue;
    }
    ++report.peers_with_ring;
    const Ring& ring = *p.ring;
    if (auto ok = ring.check_invariants(); !ok) {
      ++report.invalid_rings;
      detail("invalid ring on " + p.name.to_string() + ": " + ok.error().message);
    }
    // In use where our own ring says someone else owns it.
    RangeSet stray;
    for (const Range& r : p.allocated) stray.add(r);
    const std::vector<Range> owned = ring.owned_ranges_of(p.name);
    for (const Range& r : owned) stray.subtract(r);
    if (!stray.empty()) {
      report.allocated_outside_owned += stray.count();
      for (const Range& r : stray.ranges()) {
        detail("allocated outside owned space: " + r.to_string() + " on " + p.name.to_string() +
               ", whose ring says " + ring.owner(r.start).to_string() + " owns it");
      }
    }
    RangeSet ring_owned;
    for (const Range& r : owned) ring_owned.add(r);
    RangeSet space;
    for (const Range& r : p.space) space.add(r);
    if (!(ring_owned == space)) ++report.space_ring_mismatches;

    // The share owned by peers it cannot reach.
    UnreachableShare share;
    share.peer = p.name;
    std::map<PeerName, uint64_t> by_owner;
    for (const RangeInfo& r : ring.all_range_info()) by_owner[r.peer] += r.range.size();
    uint64_t unreachable_ips = 0;
    const size_t mine = group_of[p.name];
    for (const auto& [owner, ips] : by_owner) {
      auto g = group_of.find(owner);
      if (g != group_of.end() && g->second == mine) continue;
      ++share.owners;
      unreachable_ips += ips;
    }
    share.percentage =
        static_cast<double>(unreachable_ips) * 100.0 / static_cast<double>(ring.universe().size());
    report.max_unreachable_percentage =
        std::max(report.max_unreachable_percentage, share.percentage);
    report.unreachable.push_back(share);
  }

  // Ring disagreement within each group: count who differs from the most
  // common ring there.
  std::map<size_t, std::vector<size_t>> members;
  for (size_t i = 0; i < peers.size(); ++i) members[group_of[names[i]]].push_back(i);
  for (const auto& [g, idx] : members) {
    std::vector<std::pair<size_t, size_t>> variants;  // (representative, count)
    for (size_t i : idx) {
      bool found = false;
      for (auto& [rep, count] : variants) {
        if (same_ring(peers[rep].ring, peers[i].ring)) {
          ++count;
          found = true;
          break;
        }
      }
      if (!found) variants.emplace_back(i, 1);
    }
    if (variants.size() < 2) continue;
    size_t best = 0;
    for (size_t v = 1; v < variants.size(); ++v) {
      if (variants[v].second > variants[best].second) best = v;
    }
    for (size_t v = 0; v < variants.size(); ++v) {
      if (v == best) continue;
      report.ring_disagreements += variants[v].second;
      detail("ring disagreement: " + names[variants[v].first].to_string() + " (and " +
             std::to_string(variants[v].second - 1) + " more) hold a different ring from " +
             names[variants[best].first].to_string());
    }
  }
  return report;
}

std::string InvariantReport::summary() const {
  std::ostringstream out;
  out << peers << " peers (" << peers_with_ring << " with a ring): " << duplicate_owned_addresses
      << " addresses owned twice, " << duplicate_allocated_addresses << " allocated twice, "
      << allocated_outside_owned << " allocated outside owned space, " << ring_disagreements
      << " ring disagreements, " << invalid_rings << " invalid rings, " << space_ring_mismatches
      << " space/ring mismatches, max unreachable " << max_unreachable_percentage << "%";
  for (const std::string& d : details) out << "\n  " << d;
  return out.str();
}

nlohmann::json to_json(const InvariantReport& r) {
  auto overlap_json = [](const std::vector<Overlap>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const Overlap& o : list) {
      nlohmann::json peers = nlohmann::json::array();
      for (PeerName p : o.peers) peers.push_back(p.to_string());
      a.push_back({{"Range", o.range.to_string()}, {"Size", o.range.size()}, {"Peers", peers}});
    }
    return a;
  };
  nlohmann::json duplicates = nlohmann::json::array();
  for (const DuplicateAddress& d : r.overlapping_allocations) {
    duplicates.push_back({{"Address", format_address(d.address)}, {"Holders", d.holders}});
  }
  nlohmann::json unreachable = nlohmann::json::array();
  for (const UnreachableShare& u : r.unreachable) {
    unreachable.push_back(
        {{"Peer", u.peer.to_string()}, {"Owners", u.owners}, {"Percentage", u.percentage}});
  }
  return {{"Ok", r.ok()},
          {"Peers", r.peers},
          {"PeersWithRing", r.peers_with_ring},
          {"DuplicateOwnedAddresses", r.duplicate_owned_addresses},
          {"DuplicateAllocatedAddresses", r.duplicate_allocated_addresses},
          {"AllocatedOutsideOwned", r.allocated_outside_owned},
          {"RingDisagreements", r.ring_disagreements},
          {"InvalidRings", r.invalid_rings},
          {"SpaceRingMismatches", r.space_ring_mismatches},
          {"MaxUnreachablePercentage", r.max_unreachable_percentage},
          {"DuplicateOwnership", overlap_json(r.duplicate_ownership)},
          {"OverlappingAllocations", duplicates},
          {"Unreachable", unreachable},
          {"Details", r.details}};
}

}  // namespace loom::ipam
