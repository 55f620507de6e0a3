// Ring: Weave's CRDT of who owns which part of the allocation universe
// (weave:ipam/ring/ring.go, entry.go; docs/ipam.md, weave-protocol.md 2.2-2.4).
//
// The universe [start, end) is a ring of tokens. Each Entry's token starts a
// range that runs up to the next token, the last one wrapping round to the
// first. Only a token's owner changes it, bumping its version, and merge
// keeps the higher version of each token; Weave's conflict rules (below, and
// docs/ipam.md) decide what else may happen and when a merge must fail.
//
// Invariants, checked by check_invariants() and around every merge: entries
// sorted by token, no token twice, every token inside [start, end), and each
// entry's free count no more than the distance to the next token.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "model/ipam/address.h"
#include "model/mesh/peer_name.h"
#include "model/random.h"
#include "model/result.h"

namespace loom::ipam {

using mesh::PeerName;

struct Entry {
  Address token = 0;  // start of the range
  PeerName peer;      // its owner
  uint32_t version = 0;
  Count free = 0;  // a hint: free addresses in the range, as its owner last said

  // Weave's entry.Equal: token, owner and version; not free.
  bool same_claim(const Entry& o) const {
    return token == o.token && peer == o.peer && version == o.version;
  }
  friend bool operator==(const Entry&, const Entry&) = default;
};

// Why a merge failed, for callers that react differently (the allocator
// annotates seed lists with nicknames; metrics count kinds). The message
// always says it in Weave's words.
enum class MergeError {
  invalid_ring,        // theirs breaks an invariant ("Ring not sorted", ...)
  different_seeds,     // "IP allocation was seeded by different peers"
  different_range,     // "Incompatible IP allocation ranges"
  inconsistent_entry,  // equal versions, different owners, our allocations in the way
  entry_in_my_range,   // "Peer X says it owns the IP range from T, which I think I own"
  newer_version,       // "Received update for IP range I own at T vN: ..."
  invalid_result,      // "Merge of incoming data causes: ..."
};

// For status: one range of the ring, split at the universe's end.
struct RangeInfo {
  PeerName peer;
  Range range;
  uint32_t version = 0;
  friend bool operator==(const RangeInfo&, const RangeInfo&) = default;
};

class Ring {
 public:
  // Does the caller hold any allocated address in these ranges? Merge asks
  // before letting another peer's entry cut into a range we own.
  using HasAllocations = std::function<bool(const std::vector<Range>&)>;

  // An empty ring over [universe.start, universe.end), held by `us`.
  // Requires a non-empty universe.
  Ring(Range universe, PeerName us);

  // A ring with the given content, unchecked: decoders and tests build rings
  // this way, then check_invariants() (merge checks the ring it is given).
  static Ring from_parts(Range universe, PeerName us, std::vector<Entry> entries,
                         std::vector<PeerName> seeds);

  Range universe() const { return universe_; }
  PeerName us() const { return us_; }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<PeerName>& seeds() const { return seeds_; }
  bool empty() const { return entries_.empty(); }
  bool contains(Address a) const { return universe_.contains(a); }

  // Sorted, unique tokens in range, free within each range. Errors carry
  // Weave's wording ("Ring not sorted", "Token appears twice in ring", ...).
  Result<void> check_invariants() const;

  // Initialisation (an empty ring only): split the universe in halves
  // recursively, the first half of `peers` taking the lower half, until one
  // peer remains per piece. Pieces are CIDR-aligned when the universe is a
  // power of two. The seeds become `peers`, as given.
  Result<void> claim_for_peers(const std::vector<PeerName>& peers);

  // Donation: gives [start, end), which we must own whole, to `peer`. At
  // most two tokens are added; versions bump as Weave's GrantRangeToHost.
  Result<void> grant_range_to_host(Address start, Address end, PeerName peer);

  // Every entry of `from` becomes `to`'s with version + 100, so the
  // transfer beats concurrent small bumps. Returns the ranges moved.
  std::vector<Range> transfer(PeerName from, PeerName to);

  // Sets the free counts of our own ranges, keyed by range start as
  // owned_ranges() returns them; bumps the version of each entry whose count
  // changes. Returns whether anything changed. Fails (changing nothing) for
  // a start we do not own or a count larger than its range.
  Result<bool> report_free(const std::map<Address, Count>& free);

  // The owner of the range holding `a`; unknown when the ring is empty or
  // `a` is outside the universe.
  PeerName owner(Address a) const;
  // Ranges owned by `peer` (by us), in address order, split at the end of
  // the universe.
  std::vector<Range> owned_ranges_of(PeerName peer) const;
  std::vector<Range> owned_ranges() const { return owned_ranges_of(us_); }
  std::vector<RangeInfo> all_range_info() const;
  // Every peer named in the ring, sorted.
  std::vector<PeerName> peer_names() const;
  // The first owner of an entry, other than us, that `valid` accepts;
  // unknown if none (Weave's PickPeerForTransfer).
  PeerName pick_peer_for_transfer(const std::function<bool(PeerName)>& valid) const;

  // Others with free space in [start, end), in a weighted random order:
  // each peer's total free there times uniform(0, 1), descending.
  std::vector<PeerName> choose_peers_to_ask_for_space(Address start, Address end,
                                                      Random& random) const;

  // Merges `other` into this ring by Weave's rules (docs/ipam.md, "Merge").
  // Returns whether this ring changed. On error nothing changes, and `why`
  // (if given) says which rule refused.
  Result<bool> merge(const Ring& other, const HasAllocations& has_allocations,
                     MergeError* why = nullptr);

  // "Ring [10.32.0.0, 10.48.0.0)" and a line per entry, as Weave prints.
  std::string to_string() const;

 private:
  Count distance(Address from, Address to) const { return ring_distance(universe_, from, to); }
  // Entry i, wrapping both ways (Weave's entries.entry).
  const Entry& at(ptrdiff_t i) const;
  Entry& at(ptrdiff_t i);
  Address next_token(size_t i) const { return at(static_cast<ptrdiff_t>(i) + 1).token; }
  std::vector<Range> split_over_zero(std::vector<Range> ranges) const;
  void subdivide(Address from, Address to, const PeerName* peers, size_t count);

  Range universe_;
  PeerName us_;
  std::vector<Entry> entries_;
  std::vector<PeerName> seeds_;
};

// The invariants of a list of entries on a universe (Ring::check_invariants).
Result<void> check_entries(const Range& universe, const std::vector<Entry>& entries);

}  // namespace loom::ipam
