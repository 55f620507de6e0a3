// Space: the addresses this peer owns, each either allocated or free
// (weave:ipam/space/space.go; weave-protocol.md 2.7).
//
// The ring says which ranges we own; Space says which addresses in them are
// in use. Allocation takes the lowest free address; donation gives away part
// of the biggest free chunk, as Weave's Donate does.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/ipam/address.h"
#include "model/ipam/range_set.h"
#include "model/result.h"

namespace loom::ipam {

class Space {
 public:
  // Adds r as free space.
  void add(Range r) { free_.add(r); }
  void add_ranges(const std::vector<Range>& ranges);
  // Given every range we should own (Ring::owned_ranges), adds the part not
  // yet here as free. Like Weave's UpdateRanges it never removes anything.
  void update_ranges(const std::vector<Range>& owned);
  // Forgets everything (shutdown, after the ring went to an heir).
  void clear();
  // Given every range we should own, drops the free addresses outside them
  // (the ring gave them to someone else: a merge repair) and returns how
  // many went. Allocated addresses stay: the caller reports them.
  uint64_t retain(const std::vector<Range>& owned);

  // The lowest free address in r, now allocated; nothing if none is free.
  std::optional<Address> allocate(Range r);
  // Allocates exactly a. Fails if a is not free here.
  Result<void> claim(Address a);
  // Returns an allocated address to the free space.
  Result<void> free(Address a);

  // Space to give a peer who asked for some in r: the largest CIDR-aligned
  // block inside the biggest free chunk of r (the highest chunk of equal
  // size), only its upper half if it is more than half our free space in r.
  // Removed from our space; nothing if we have nothing free in r.
  std::optional<Range> donate(Range r);

  uint64_t num_allocated() const { return allocated_.count(); }
  uint64_t num_free() const { return free_.count(); }
  uint64_t num_free_in(Range r) const { return free_.count_in(r); }
  bool has_allocations_in(const std::vector<Range>& ranges) const;
  // Free addresses per range, keyed by range start: what Ring::report_free
  // takes, for the ranges Ring::owned_ranges gives.
  std::map<Address, Count> free_in_each(const std::vector<Range>& ranges) const;

  // Everything we own, allocated or free, coalesced, in address order.
  std::vector<Range> owned_ranges() const;
  const RangeSet& allocated() const { return allocated_; }
  const RangeSet& free_space() const { return free_; }

  // "owned: 10.32.0.0+3 free: 10.32.0.3+1021", as Weave prints.
  std::string to_string() const;

 private:
  RangeSet allocated_;  // Weave's "ours"
  RangeSet free_;
};

}  // namespace loom::ipam
