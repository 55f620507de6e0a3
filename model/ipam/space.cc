#include "model/ipam/space.h"

namespace loom::ipam {

void Space::add_ranges(const std::vector<Range>& ranges) {
  for (const Range& r : ranges) free_.add(r);
}

void Space::update_ranges(const std::vector<Range>& owned) {
  RangeSet missing;
  for (const Range& r : owned) missing.add(r);
  for (const Range& r : allocated_.ranges()) missing.subtract(r);
  for (const Range& r : free_.ranges()) missing.subtract(r);
  for (const Range& r : missing.ranges()) free_.add(r);
}

uint64_t Space::retain(const std::vector<Range>& owned) {
  RangeSet outside = free_;
  for (const Range& r : owned) outside.subtract(r);
  for (const Range& r : outside.ranges()) free_.subtract(r);
  return outside.count();
}

void Space::clear() {
  allocated_.clear();
  free_.clear();
}

std::optional<Address> Space::allocate(Range r) {
  Address a = 0;
  if (!free_.first_in(r, &a)) return std::nullopt;
  free_.subtract(Range{a, a + 1});
  allocated_.add(Range{a, a + 1});
  return a;
}

Result<void> Space::claim(Address a) {
  if (!free_.contains(a)) {
    return make_error("Address " + format_address(a) + " is not free to claim");
  }
  free_.subtract(Range{a, a + 1});
  allocated_.add(Range{a, a + 1});
  return {};
}

Result<void> Space::free(Address a) {
  // Allocated and free never overlap, so Weave's second check ("is already
  // free") cannot fire once the first passed.
  if (!allocated_.contains(a)) return make_error("Address " + format_address(a) + " is not ours");
  allocated_.subtract(Range{a, a + 1});
  free_.add(Range{a, a + 1});
  return {};
}

std::optional<Range> Space::donate(Range r) {
  Range biggest{0, 0};
  free_.walk(r, [&](const Range& chunk) {
    // ">=": of equal chunks the last (highest) wins, as in Weave.
    if (chunk.size() >= biggest.size()) {
      const Range block = chunk.biggest_cidr_block();
      if (block.size() >= biggest.size()) biggest = block;
    }
    return false;
  });
  if (biggest.size() == 0) return std::nullopt;
  // Give no more than about half of what we have free there; size / 2
  // rounds down, so the donation rounds up and is never empty.
  if (biggest.size() > num_free_in(r) / 2) biggest.start += biggest.size() / 2;
  free_.subtract(biggest);
  allocated_.subtract(biggest);  // nothing: the block was free
  return biggest;
}

bool Space::has_allocations_in(const std::vector<Range>& ranges) const {
  for (const Range& r : ranges) {
    if (allocated_.overlaps(r)) return true;
  }
  return false;
}

std::map<Address, Count> Space::free_in_each(const std::vector<Range>& ranges) const {
  std::map<Address, Count> out;
  for (const Range& r : ranges) out[r.start] = static_cast<Count>(free_.count_in(r));
  return out;
}

std::vector<Range> Space::owned_ranges() const {
  RangeSet everything = allocated_;
  for (const Range& r : free_.ranges()) everything.add(r);
  return everything.ranges();
}

std::string Space::to_string() const {
  std::string out;
  auto list = [&](const char* label, const RangeSet& set) {
    if (set.empty()) return;
    if (!out.empty()) out += ' ';
    out += label;
    for (const Range& r : set.ranges()) {
      out += ' ' + format_address(r.start) + '+' + std::to_string(r.size());
    }
  };
  list("owned:", allocated_);
  list("free:", free_);
  return out.empty() ? "No address ranges owned" : out;
}

}  // namespace loom::ipam
