// RangeSet: a set of addresses held as disjoint, coalesced [start, end)
// intervals in an ordered map, so adding, removing and finding cost
// O(log n) in the number of intervals, not in the number of addresses (a
// /12 universe is a million of them). Space keeps its allocated and free
// addresses in two of these (Weave keeps two sorted boundary slices).
#pragma once

#include <map>
#include <vector>

#include "model/ipam/address.h"

namespace loom::ipam {

class RangeSet {
 public:
  void add(Range r);
  void subtract(Range r);
  void clear();

  bool contains(Address a) const;
  bool overlaps(Range r) const;
  bool empty() const { return intervals_.empty(); }
  // Addresses in the set, and in the set within r.
  uint64_t count() const { return count_; }
  uint64_t count_in(Range r) const;
  // The lowest address of the set within r.
  bool first_in(Range r, Address* out) const;
  std::vector<Range> ranges() const;
  size_t interval_count() const { return intervals_.size(); }

  // Calls fn(chunk) for each interval clipped to r, in address order, until
  // fn returns true; returns whether it did.
  template <typename Fn>
  bool walk(Range r, Fn&& fn) const;

  friend bool operator==(const RangeSet&, const RangeSet&) = default;

 private:
  // The first interval that ends after a (the one holding a, if any).
  std::map<Address, Address>::const_iterator first_ending_after(Address a) const;

  std::map<Address, Address> intervals_;  // start -> end, disjoint, not touching
  uint64_t count_ = 0;
};

template <typename Fn>
bool RangeSet::walk(Range r, Fn&& fn) const {
  if (r.empty()) return false;
  for (auto it = first_ending_after(r.start); it != intervals_.end() && it->first < r.end; ++it) {
    const Range chunk{std::max(it->first, r.start), std::min(it->second, r.end)};
    if (fn(chunk)) return true;
  }
  return false;
}

}  // namespace loom::ipam
