// Addresses, ranges and CIDRs as IPAM sees them (weave:net/address/address.go).
//
// An Address is an IPv4 address as a uint32 in host byte order
// (10.32.0.1 is 0x0A200001). A Range is [start, end). The allocation
// universe is one CIDR treated as a ring that wraps from its end back to its
// start; the wrap helpers at the bottom measure and cut ranges on that ring.
//
// One limit of our own: a range's exclusive end must fit in 32 bits, so a
// universe may not contain 255.255.255.255 (parse_allocation_range refuses
// it). Weave has the same limit without saying so (its End would wrap to 0).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.h"

namespace loom::ipam {

using Address = uint32_t;
using Count = uint32_t;  // a number of addresses

// Weave's MinSubnetSize: the first and last addresses are never handed out,
// so a /31 or /32 would leave nothing.
inline constexpr uint64_t kMinSubnetSize = 4;

// "10.32.0.1".
std::string format_address(Address a);
// Dotted quad only; the error names the text.
Result<Address> parse_address(std::string_view text);

struct Range {
  Address start = 0;
  Address end = 0;  // exclusive; start <= end

  Count size() const { return end - start; }
  bool empty() const { return end <= start; }
  bool contains(Address a) const { return a >= start && a < end; }
  bool overlaps(const Range& o) const { return !(start >= o.end || end <= o.start); }

  // The largest CIDR-aligned block inside this range, the lowest of equals;
  // empty for an empty range (Weave's BiggestCIDRRange).
  Range biggest_cidr_block() const;

  // "10.0.0.0-10.0.0.255" (the last address is inclusive, as Weave prints).
  std::string to_string() const;
  // "10.0.0.0/24" when the size is a power of two, else to_string().
  // Like Weave, alignment is not checked.
  std::string as_cidr_string() const;

  friend bool operator==(const Range&, const Range&) = default;
};

struct Cidr {
  Address addr = 0;  // as written: "10.32.0.1/12" keeps the .1
  int prefix_len = 32;

  // "10.32.0.0/12". Any address with a prefix 0-32; see parse_subnet for
  // the checks an allocation subnet needs.
  static Result<Cidr> parse(std::string_view text);
  std::string to_string() const;

  uint64_t size() const { return uint64_t{1} << (32 - prefix_len); }
  // No bits set after the prefix.
  bool is_subnet() const { return (addr & static_cast<Address>(size() - 1)) == 0; }
  // [addr, addr + size). Needs the end to fit in 32 bits (see the header).
  Range range() const;
  // The range without its first and last addresses (RFC 1122); empty when
  // the CIDR has fewer than three addresses.
  Range host_range() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// A CIDR for allocating in (Weave's ParseCIDRSubnet): host bits clear and
// at least kMinSubnetSize addresses. Errors carry Weave's wording.
Result<Cidr> parse_subnet(std::string_view text);
// The universe (--ipalloc-range): a subnet whose range fits in 32 bits.
Result<Cidr> parse_allocation_range(std::string_view text);

// Ring wrap helpers, for a universe treated as a ring.

// Addresses from `from` up to `to`, going round the ring when to <= from
// (so distance(u, a, a) is the whole ring).
inline Count ring_distance(const Range& universe, Address from, Address to) {
  if (to > from) return to - from;
  return (universe.end - from) + (to - universe.start);
}
// [start, end) on the ring as plain ranges in address order: one range, or
// two when it wraps past the universe's end. An end equal to the universe's
// start means the universe's end (Weave's makeRanges / splitRangesOverZero).
std::vector<Range> ring_ranges(const Range& universe, Address start, Address end);

}  // namespace loom::ipam
