// Helpers for the IPAM tests: short peer names, addresses from text, a
// /24 universe like Weave's own ring tests use, and hand-built rings.
#pragma once

#include <string>
#include <vector>

#include "model/ipam/ring.h"

namespace loom::ipam::testing {

// 00:00:00:00:00:0n
inline PeerName P(uint64_t n) { return PeerName(n); }

inline Address A(const std::string& text) {
  auto a = parse_address(text);
  return a.ok() ? *a : 0;
}
// 10.0.0.n
inline Address dot(unsigned n) { return A("10.0.0.0") + n; }

// 10.0.0.0/24: [10.0.0.0, 10.0.1.0), 256 addresses.
inline constexpr Range kUniverse{0x0A000000u, 0x0A000100u};

inline Entry E(Address token, PeerName peer, uint32_t version, Count free) {
  return Entry{token, peer, version, free};
}

inline Ring ring_of(PeerName us, std::vector<Entry> entries, std::vector<PeerName> seeds = {}) {
  return Ring::from_parts(kUniverse, us, std::move(entries), std::move(seeds));
}

// Has-allocations answers for merge.
inline bool no_allocations(const std::vector<Range>&) { return false; }
inline bool allocations_everywhere(const std::vector<Range>&) { return true; }

}  // namespace loom::ipam::testing
