#include "model/ipam/range_set.h"

#include <algorithm>
#include <iterator>

namespace loom::ipam {

std::map<Address, Address>::const_iterator RangeSet::first_ending_after(Address a) const {
  auto it = intervals_.upper_bound(a);  // first starting after a
  if (it != intervals_.begin()) {
    auto prev = std::prev(it);
    if (prev->second > a) return prev;
  }
  return it;
}

// Both edit nodes in place where they can (extend, or re-key an extracted
// node): allocating one address at a time then costs no memory allocation.
void RangeSet::add(Range r) {
  if (r.empty()) return;
  Address start = r.start;
  Address end = r.end;
  auto it = intervals_.upper_bound(start);
  auto keep = intervals_.end();  // an interval reaching start: it grows
  if (it != intervals_.begin()) {
    const auto prev = std::prev(it);
    if (prev->second >= start) {
      if (prev->second >= end) return;  // all in the set already
      keep = prev;
      start = prev->first;
      count_ -= prev->second - prev->first;
    }
  }
  // Swallow every interval that overlaps or touches [start, end).
  std::map<Address, Address>::node_type reuse;
  while (it != intervals_.end() && it->first <= end) {
    end = std::max(end, it->second);
    count_ -= it->second - it->first;
    if (keep == intervals_.end() && reuse.empty()) {
      reuse = intervals_.extract(it++);
    } else {
      it = intervals_.erase(it);
    }
  }
  count_ += end - start;
  if (keep != intervals_.end()) {
    keep->second = end;
  } else if (!reuse.empty()) {
    reuse.key() = start;
    reuse.mapped() = end;
    intervals_.insert(it, std::move(reuse));
  } else {
    intervals_.emplace_hint(it, start, end);
  }
}

void RangeSet::subtract(Range r) {
  if (r.empty()) return;
  auto it = intervals_.upper_bound(r.start);
  if (it != intervals_.begin() && std::prev(it)->second > r.start) --it;
  while (it != intervals_.end() && it->first < r.end) {
    const Address start = it->first;
    const Address end = it->second;
    count_ -= std::min(end, r.end) - std::max(start, r.start);
    if (start < r.start) {
      it->second = r.start;  // keep the part below
      if (end > r.end) {     // and the part above: a split
        intervals_.emplace_hint(std::next(it), r.end, end);
        return;
      }
      ++it;
    } else if (end > r.end) {
      auto node = intervals_.extract(it);  // keep the part above, re-keyed
      node.key() = r.end;
      intervals_.insert(std::move(node));
      return;
    } else {
      it = intervals_.erase(it);
    }
  }
}

void RangeSet::clear() {
  intervals_.clear();
  count_ = 0;
}

bool RangeSet::contains(Address a) const {
  const auto it = first_ending_after(a);
  return it != intervals_.end() && it->first <= a;
}

bool RangeSet::overlaps(Range r) const {
  return walk(r, [](const Range&) { return true; });
}

uint64_t RangeSet::count_in(Range r) const {
  uint64_t n = 0;
  walk(r, [&](const Range& chunk) {
    n += chunk.size();
    return false;
  });
  return n;
}

bool RangeSet::first_in(Range r, Address* out) const {
  return walk(r, [&](const Range& chunk) {
    *out = chunk.start;
    return true;
  });
}

std::vector<Range> RangeSet::ranges() const {
  std::vector<Range> out;
  out.reserve(intervals_.size());
  for (const auto& [start, end] : intervals_) out.push_back(Range{start, end});
  return out;
}

}  // namespace loom::ipam
