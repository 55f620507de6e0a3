// Decodes arbitrary bytes as an IPAM ring and merges it into a small ring of
// ours. Must never crash; a decoded ring keeps the invariants; a merge that
// succeeds keeps them too, and one that fails changes nothing; what merged
// re-encodes to the same ring.
#include "model/ipam/codec.h"
#include "tests/fuzz/fuzz_check.h"

using loom::wire::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace loom::ipam;
  auto theirs = decode_ring(loom::ByteView(data, size));
  if (!theirs.ok()) return 0;
  check(theirs->check_invariants().ok(), "a decoded ring keeps the invariants");
  const auto again = decode_ring(encode_ring(*theirs));
  check(again.ok() && again->entries() == theirs->entries() && again->seeds() == theirs->seeds(),
        "a decoded ring re-encodes to itself");

  // Ours: 10.0.0.0/24 split between peers 1-3, we are peer 1, with a
  // donation to peer 4. Allocations everywhere or nowhere, by input.
  const Range universe{0x0A000000u, 0x0A000100u};
  Ring ours(universe, PeerName(1));
  check(ours.claim_for_peers({PeerName(1), PeerName(2), PeerName(3)}).ok(), "claim");
  check(ours.grant_range_to_host(0x0A000010u, 0x0A000020u, PeerName(4)).ok(), "grant");
  const bool allocated = size > 0 && (data[size - 1] & 1) != 0;
  const auto before = ours.entries();
  const auto seeds = ours.seeds();
  const auto merged =
      ours.merge(*theirs, [allocated](const std::vector<Range>&) { return allocated; });
  if (merged.ok()) {
    check(ours.check_invariants().ok(), "a merge that succeeds keeps the invariants");
    const auto round_trip = decode_ring(encode_ring(ours));
    check(round_trip.ok() && round_trip->entries() == ours.entries(), "merged ring round-trips");
  } else {
    check(ours.entries() == before && ours.seeds() == seeds, "a refused merge changes nothing");
  }
  // Its queries hold up whatever the content.
  loom::Random random(size);
  (void)theirs->choose_peers_to_ask_for_space(theirs->universe().start, theirs->universe().end,
                                              random);
  (void)theirs->owned_ranges_of(PeerName(1));
  (void)theirs->all_range_info();
  return 0;
}
