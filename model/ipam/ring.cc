#include "model/ipam/ring.h"

#include <algorithm>
#include <cassert>
#include <unordered_set>
#include <utility>

namespace loom::ipam {
namespace {

std::string names(const std::vector<PeerName>& peers) {
  std::string out = "[";
  for (size_t i = 0; i < peers.size(); ++i) {
    if (i > 0) out += ' ';
    out += peers[i].to_string();
  }
  return out + "]";
}

// Weave's entry.update: a new owner (or the same) and free count, one more
// version.
void update(Entry& e, PeerName peer, Count free) {
  e.peer = peer;
  ++e.version;
  e.free = free;
}

}  // namespace

namespace {

// One pass, no division: is every invariant met? (The common case; the
// checks below then find which rule broke first, in Weave's order.)
bool entries_hold(const Range& universe, const std::vector<Entry>& entries) {
  const size_t n = entries.size();
  if (n == 0) return true;
  if (entries.front().token < universe.start || entries.back().token >= universe.end) return false;
  for (size_t i = 0; i + 1 < n; ++i) {
    const Entry& e = entries[i];
    const Address next = entries[i + 1].token;
    if (next <= e.token || e.free > next - e.token) return false;
  }
  const Entry& last = entries.back();
  return last.free <= ring_distance(universe, last.token, entries.front().token);
}

}  // namespace

Result<void> check_entries(const Range& universe, const std::vector<Entry>& entries) {
  if (entries_hold(universe, entries)) return {};
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].token < entries[i - 1].token) {
      return make_error("Ring not sorted: " + format_address(entries[i - 1].token) + " before " +
                        format_address(entries[i].token));
    }
  }
  for (size_t i = 1; i < entries.size(); ++i) {
    if (entries[i].token == entries[i - 1].token) {
      return make_error("Token appears twice in ring: " + format_address(entries[i].token));
    }
  }
  if (entries.empty()) return {};
  if (entries.front().token < universe.start || entries.back().token >= universe.end) {
    const Address bad =
        entries.front().token < universe.start ? entries.front().token : entries.back().token;
    return make_error("Token is out of range: " + format_address(bad) + " is outside " +
                      universe.to_string());
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const Address next = entries[(i + 1) % entries.size()].token;
    const Count distance = ring_distance(universe, entries[i].token, next);
    if (entries[i].free > distance) {
      return make_error("Entry " + format_address(entries[i].token) + "-" + format_address(next) +
                        " reporting too much free space: " + std::to_string(entries[i].free) +
                        " > " + std::to_string(distance));
    }
  }
  return {};
}

Ring::Ring(Range universe, PeerName us) : universe_(universe), us_(us) {
  assert(universe.start < universe.end);
}

Ring Ring::from_parts(Range universe, PeerName us, std::vector<Entry> entries,
                      std::vector<PeerName> seeds) {
  Ring r(universe, us);
  r.entries_ = std::move(entries);
  r.seeds_ = std::move(seeds);
  return r;
}

const Entry& Ring::at(ptrdiff_t i) const {
  const auto n = static_cast<ptrdiff_t>(entries_.size());
  i %= n;
  if (i < 0) i += n;
  return entries_[static_cast<size_t>(i)];
}

Entry& Ring::at(ptrdiff_t i) { return const_cast<Entry&>(std::as_const(*this).at(i)); }

Result<void> Ring::check_invariants() const { return check_entries(universe_, entries_); }

// Only the last range can wrap past the universe's end: cut it there.
std::vector<Range> Ring::split_over_zero(std::vector<Range> ranges) const {
  if (ranges.empty()) return ranges;
  Range& last = ranges.back();
  if (last.end == universe_.start) {
    last.end = universe_.end;
  } else if (last.end <= last.start) {
    const Range low{universe_.start, last.end};
    last.end = universe_.end;
    ranges.insert(ranges.begin(), low);
  }
  return ranges;
}

void Ring::subdivide(Address from, Address to, const PeerName* peers, size_t count) {
  const Count share = to - from;
  if (share == 0) return;
  if (share == 1 || count == 1) {
    entries_.push_back(Entry{from, peers[0], 0, share});
    return;
  }
  // Weave's split: the lower half of the peers take [from, mid); when the
  // share is odd the upper half starts one further on, and the address in
  // between stays with the lower piece (its free count leaves it out).
  const Address mid = from + share / 2;
  subdivide(from, mid, peers, count / 2);
  subdivide(mid + share % 2, to, peers + count / 2, count - count / 2);
}

Result<void> Ring::claim_for_peers(const std::vector<PeerName>& peers) {
  if (!empty()) return make_error("claim_for_peers: the ring already has entries");
  if (peers.empty()) return make_error("claim_for_peers: no peers to claim for");
  subdivide(universe_.start, universe_.end, peers.data(), peers.size());
  seeds_ = peers;
  assert(check_invariants().ok());
  return {};
}

Result<void> Ring::grant_range_to_host(Address start, Address end, PeerName peer) {
  auto refuse = [&](const std::string& why) {
    return make_error("grant " + Range{start, end}.to_string() + " to " + peer.to_string() + ": " +
                      why);
  };
  if (start >= end) return refuse("the range is empty");
  if (start < universe_.start || end > universe_.end) return refuse("outside the universe");
  if (empty()) return refuse("the ring is empty");

  const auto n = static_cast<ptrdiff_t>(entries_.size());
  // The entry at or before start (-1: the last one, wrapping round).
  ptrdiff_t preceding = std::upper_bound(entries_.begin(), entries_.end(), start,
                                         [](Address a, const Entry& e) { return a < e.token; }) -
                        entries_.begin() - 1;
  if (at(preceding).peer != us_) return refuse("we do not own " + format_address(start));
  for (ptrdiff_t pos = preceding + 1; pos < n && entries_[pos].token < end; ++pos) {
    if (entries_[pos].peer != us_) {
      return refuse("we do not own the range from " + format_address(entries_[pos].token));
    }
  }

  // Free at start: up to the next token, but no further than the grant.
  const Count start_free = std::min(distance(start, at(preceding + 1).token), distance(start, end));
  if (at(preceding).token == start) {
    update(at(preceding), peer, start_free);
  } else {
    // A new token at start; the entry before it shrinks (and we keep it).
    const size_t insert_at = static_cast<size_t>(preceding + 1);
    size_t previous = preceding < 0 ? entries_.size() - 1 : static_cast<size_t>(preceding);
    entries_.insert(entries_.begin() + static_cast<ptrdiff_t>(insert_at),
                    Entry{start, peer, 0, start_free});
    if (previous >= insert_at) ++previous;
    preceding = static_cast<ptrdiff_t>(insert_at);
    Entry& prev = entries_[previous];
    update(prev, us_, distance(prev.token, start));
  }

  // Every token inside the range goes with it.
  ptrdiff_t pos = preceding + 1;
  for (; pos < static_cast<ptrdiff_t>(entries_.size()) && entries_[pos].token < end; ++pos) {
    Entry& e = entries_[pos];
    update(e, peer, std::min(e.free, distance(e.token, end)));
  }

  // We keep what follows the range: a token of ours at its end, unless one
  // is there already. The ring's end is its start.
  const Address end_token = end == universe_.end ? universe_.start : end;
  const auto at_end = std::lower_bound(entries_.begin(), entries_.end(), end_token,
                                       [](const Entry& e, Address a) { return e.token < a; });
  if (at_end != entries_.end() && at_end->token == end_token) {
    assert(check_invariants().ok());
    return {};
  }
  const Count end_free = distance(end_token, at(pos).token);
  entries_.insert(at_end, Entry{end_token, us_, 0, end_free});
  assert(check_invariants().ok());
  return {};
}

std::vector<Range> Ring::transfer(PeerName from, PeerName to) {
  std::vector<Range> moved;
  for (size_t i = 0; i < entries_.size(); ++i) {
    Entry& e = entries_[i];
    if (e.peer != from) continue;
    e.peer = to;
    e.version += 100;
    moved.push_back(Range{e.token, next_token(i)});
  }
  return split_over_zero(std::move(moved));
}

Result<bool> Ring::report_free(const std::map<Address, Count>& reported) {
  if (empty()) return make_error("report_free: the ring is empty");
  // owned_ranges() cuts a range that wraps at the universe's end; its two
  // parts belong to the last entry.
  std::map<Address, uint64_t> free(reported.begin(), reported.end());
  if (auto wrapped = free.find(universe_.start);
      wrapped != free.end() && entries_.front().token != universe_.start) {
    const auto last = free.find(entries_.back().token);
    if (last == free.end()) {
      return make_error("report_free: " + format_address(universe_.start) +
                        " reported without the range it wraps from, " +
                        format_address(entries_.back().token));
    }
    last->second += wrapped->second;
    free.erase(wrapped);
  }
  std::vector<std::pair<size_t, Count>> changes;
  for (const auto& [start, count] : free) {
    const auto it = std::lower_bound(entries_.begin(), entries_.end(), start,
                                     [](const Entry& e, Address a) { return e.token < a; });
    if (it == entries_.end() || it->token != start || it->peer != us_) {
      return make_error("report_free: no range of ours starts at " + format_address(start));
    }
    const auto i = static_cast<size_t>(it - entries_.begin());
    const Count size = distance(it->token, next_token(i));
    if (count > size) {
      return make_error("report_free: " + std::to_string(count) + " free from " +
                        format_address(start) + ", whose range holds " + std::to_string(size));
    }
    if (it->free != count) changes.emplace_back(i, static_cast<Count>(count));
  }
  for (const auto& [i, count] : changes) {
    entries_[i].free = count;
    ++entries_[i].version;
  }
  return !changes.empty();
}

PeerName Ring::owner(Address a) const {
  if (empty() || !contains(a)) return mesh::kUnknownPeerName;
  const ptrdiff_t preceding =
      std::upper_bound(entries_.begin(), entries_.end(), a,
                       [](Address x, const Entry& e) { return x < e.token; }) -
      entries_.begin() - 1;
  return at(preceding).peer;
}

std::vector<Range> Ring::owned_ranges_of(PeerName peer) const {
  std::vector<Range> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].peer == peer) out.push_back(Range{entries_[i].token, next_token(i)});
  }
  return split_over_zero(std::move(out));
}

std::vector<RangeInfo> Ring::all_range_info() const {
  std::vector<RangeInfo> out;
  for (size_t i = 0; i < entries_.size(); ++i) {
    for (const Range& r : ring_ranges(universe_, entries_[i].token, next_token(i))) {
      out.push_back(RangeInfo{entries_[i].peer, r, entries_[i].version});
    }
  }
  return out;
}

std::vector<PeerName> Ring::peer_names() const {
  // Few owners, many entries: drop repeats first, then sort what is left.
  std::unordered_set<uint64_t> seen;
  std::vector<PeerName> out;
  for (const Entry& e : entries_) {
    if (seen.insert(e.peer.value).second) out.push_back(e.peer);
  }
  std::sort(out.begin(), out.end());
  return out;
}

PeerName Ring::pick_peer_for_transfer(const std::function<bool(PeerName)>& valid) const {
  for (const Entry& e : entries_) {
    if (e.peer != us_ && valid(e.peer)) return e.peer;
  }
  return mesh::kUnknownPeerName;
}

std::vector<PeerName> Ring::choose_peers_to_ask_for_space(Address start, Address end,
                                                          Random& random) const {
  // Weave's scan, quirks included: the last entry's wrapped part below the
  // first token is not looked at.
  std::map<PeerName, uint64_t> space;  // ordered: the draws below are reproducible
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (i + 1 < entries_.size() && entries_[i + 1].token - 1 < start) continue;
    if (e.token >= end) break;
    if (e.free == 0 || e.peer == us_) continue;
    space[e.peer] += e.free;
  }
  std::vector<std::pair<double, PeerName>> weighted;
  weighted.reserve(space.size());
  for (const auto& [peer, free] : space) {
    weighted.emplace_back(static_cast<double>(free) * random.unit(), peer);
  }
  std::stable_sort(weighted.begin(), weighted.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<PeerName> out;
  out.reserve(weighted.size());
  for (const auto& w : weighted) out.push_back(w.second);
  return out;
}

Result<bool> Ring::merge(const Ring& other, const HasAllocations& has_allocations,
                         MergeError* why) {
  auto fail = [&](MergeError kind, std::string message) {
    if (why != nullptr) *why = kind;
    return make_error(std::move(message));
  };
  auto has = [&](Address from, Address to) {
    return has_allocations && has_allocations(ring_ranges(universe_, from, to));
  };

  if (auto ours = check_invariants(); !ours) {
    assert(false && "our own ring breaks its invariants");
    return fail(MergeError::invalid_result, "Our own ring is invalid: " + ours.error().message);
  }
  if (auto theirs = check_entries(other.universe_, other.entries_); !theirs) {
    return fail(MergeError::invalid_ring, theirs.error().message);
  }
  if (!other.seeds_.empty() && !seeds_.empty() && other.seeds_ != seeds_) {
    return fail(MergeError::different_seeds,
                "IP allocation was seeded by different peers (received: " + names(other.seeds_) +
                    ", ours: " + names(seeds_) + ")");
  }
  if (other.universe_ != universe_) {
    return fail(MergeError::different_range,
                "Incompatible IP allocation ranges (received: " + other.universe_.as_cidr_string() +
                    ", ours: " + universe_.as_cidr_string() + ")");
  }

  auto adopt_seeds = [&] {
    if (!seeds_.empty() || other.seeds_.empty()) return false;
    seeds_ = other.seeds_;
    return true;
  };
  // Periodic gossip mostly brings what we have: nothing to walk.
  if (other.entries_ == entries_) return adopt_seeds();

  const std::vector<Entry>& mine = entries_;
  const std::vector<Entry>& theirs = other.entries_;
  std::vector<Entry> result;
  result.reserve(mine.size() + theirs.size());
  bool changed = false;
  // The owner of the last entry we kept of ours; cleared when we take one of
  // theirs, and (as in Weave) left alone when we reassert an entry.
  // (A flag and a name, not an optional: g++ 12 misreads the latter.)
  bool has_previous = false;
  PeerName previous_owner;
  auto keep_mine = [&](const Entry& e) {
    result.push_back(e);
    has_previous = true;
    previous_owner = e.peer;
  };
  auto take_theirs = [&](const Entry& e) {
    result.push_back(e);
    changed = true;
    has_previous = false;
  };
  auto splits_ours = [&](const Entry& t) {
    return has_previous && previous_owner == us_ && t.peer != us_;
  };
  auto entry_in_my_range = [&](const Entry& t) {
    return fail(MergeError::entry_in_my_range,
                "Peer " + t.peer.to_string() + " says it owns the IP range from " +
                    format_address(t.token) + ", which I think I own");
  };

  size_t i = 0;
  size_t j = 0;
  while (i < mine.size() && j < theirs.size()) {
    const Entry& m = mine[i];
    const Entry& t = theirs[j];
    if (m.token < t.token) {
      keep_mine(m);
      ++i;
    } else if (m.token > t.token) {
      // A token only they have: it may not cut into a range of ours that
      // holds allocations.
      if (splits_ours(t) && has(t.token, m.token)) return entry_in_my_range(t);
      take_theirs(t);
      ++j;
    } else {
      if (m.version > t.version || (m.version == t.version && m.same_claim(t))) {
        keep_mine(m);
      } else if (m.version == t.version) {
        // Same version, different owners: a conflict.
        if (m.peer == us_ && has(t.token, next_token(i))) {
          return fail(MergeError::inconsistent_entry,
                      "Inconsistent entries for " + format_address(m.token) + ": owned by " +
                          m.peer.to_string() + " but incoming message says " + t.peer.to_string());
        }
        if (m.free >= t.free) {  // the higher free count wins; ours on a tie
          keep_mine(m);
        } else {
          take_theirs(t);
        }
      } else if (m.peer != us_) {
        take_theirs(t);
      } else if (t.peer != us_ && !has(m.token, next_token(i))) {
        take_theirs(t);  // repair: they own it now, and nothing of ours is lost
      } else if (t.peer == us_) {
        // Someone has a newer version of our own entry (we restarted and
        // lost it): reassert ours above theirs.
        Entry e = m;
        e.version = t.version + 1;
        result.push_back(e);
        changed = true;
      } else {
        return fail(MergeError::newer_version,
                    "Received update for IP range I own at " + format_address(m.token) + " v" +
                        std::to_string(m.version) + ": incoming message says owner " +
                        t.peer.to_string() + " v" + std::to_string(t.version));
      }
      ++i;
      ++j;
    }
  }
  for (; i < mine.size(); ++i) result.push_back(mine[i]);
  for (; j < theirs.size(); ++j) {
    // Weave refuses a trailing token of theirs inside our last range
    // outright, without asking about allocations.
    if (splits_ours(theirs[j])) return entry_in_my_range(theirs[j]);
    take_theirs(theirs[j]);
  }

  // A range of ours that an accepted entry split may claim more free space
  // than it now has.
  for (size_t k = 0; k < result.size(); ++k) {
    Entry& e = result[k];
    if (e.peer != us_) continue;
    const Address next = k + 1 < result.size() ? result[k + 1].token : result.front().token;
    const Count d = ring_distance(universe_, e.token, next);
    if (e.peer == us_ && e.free > d) {
      e.free = d;
      changed = true;
    }
  }
  if (auto ok = check_entries(universe_, result); !ok) {
    return fail(MergeError::invalid_result, "Merge of incoming data causes: " + ok.error().message);
  }

  if (adopt_seeds()) changed = true;
  entries_ = std::move(result);
  return changed;
}

std::string Ring::to_string() const {
  std::string out =
      "Ring [" + format_address(universe_.start) + ", " + format_address(universe_.end) + ")";
  for (const Entry& e : entries_) {
    out += "\n  " + format_address(e.token) + " -> " + e.peer.to_string() + " (v" +
           std::to_string(e.version) + ")";
  }
  return out;
}

}  // namespace loom::ipam
