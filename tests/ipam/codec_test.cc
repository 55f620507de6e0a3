#include "model/ipam/codec.h"

#include <gtest/gtest.h>

#include "tests/ipam/ipam_test_util.h"

namespace loom::ipam {
namespace {

using testing::dot;
using testing::E;
using testing::kUniverse;
using testing::P;
using testing::ring_of;

Ring sample_ring() {
  Ring r(kUniverse, P(1));
  EXPECT_TRUE(r.claim_for_peers({P(1), P(2), P(3), P(4), P(5)}).ok());
  EXPECT_TRUE(r.grant_range_to_host(dot(10), dot(20), P(9)).ok());
  EXPECT_TRUE(r.report_free({{dot(0), 3}, {dot(20), 40}}).ok());
  return r;
}

paxos::GossipState sample_paxos() {
  using namespace paxos;
  const NodeID a{P(1), 11};
  const NodeID b{P(2), 22};
  GossipState s;
  s[a] = NodeClaims{ProposalID{3, b}, ProposalID{2, a}, AcceptedValue{{P(1), P(2)}, {2, a}}};
  s[b] = NodeClaims{ProposalID{3, b}, {}, {}};
  return s;
}

std::string error_of(const Result<Ring>& r) { return r.ok() ? "ok" : r.error().message; }

TEST(IpamCodec, RingRoundTrips) {
  const Ring r = sample_ring();
  const Bytes bytes = encode_ring(r);
  const auto back = decode_ring(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->universe(), r.universe());
  EXPECT_EQ(back->us(), r.us());
  EXPECT_EQ(back->seeds(), r.seeds());
  EXPECT_EQ(back->entries(), r.entries());
  EXPECT_EQ(encode_ring(*back), bytes);
  // An empty, unseeded ring too.
  const auto empty = decode_ring(encode_ring(Ring(kUniverse, P(4))));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(IpamCodec, RingCostsFourteenBytesAnEntry) {
  std::vector<Entry> entries;
  const Range universe = parse_allocation_range("10.32.0.0/12")->range();
  for (uint32_t i = 0; i < 10000; ++i) {
    entries.push_back(E(universe.start + i * 100, P(1 + i % 50), i, 0));
  }
  const Ring r = Ring::from_parts(universe, P(1), entries, {P(1)});
  const Bytes bytes = encode_ring(r);
  EXPECT_EQ(bytes.size(), 1 + 8 + 6 + 2 + 6 + 2 + 50 * 6 + 4 + 10000 * 14u);
  ASSERT_TRUE(decode_ring(bytes).ok());
}

TEST(IpamCodec, RingGarbageIsRefusedNamingTheField) {
  EXPECT_EQ(error_of(decode_ring(Bytes{})), "ipam ring: truncated format");
  EXPECT_EQ(error_of(decode_ring(Bytes{7})), "ipam ring: unknown format 7");
  Bytes b = encode_ring(sample_ring());
  Bytes truncated(b.begin(), b.end() - 3);
  EXPECT_EQ(error_of(decode_ring(truncated)), "ipam ring: entry count 7 exceeds the 95 bytes left");
  Bytes trailing = b;
  trailing.push_back(0);
  EXPECT_EQ(error_of(decode_ring(trailing)), "ipam ring: 1 trailing bytes");

  // Universe end before its start.
  Bytes universe = b;
  std::swap_ranges(universe.begin() + 1, universe.begin() + 5, universe.begin() + 5);
  EXPECT_EQ(error_of(decode_ring(universe)), "ipam ring: empty universe 10.0.1.0-10.0.0.0");

  // A hand-made ring: one seed, owners P1 then P2, two entries.
  auto ring_bytes = [](uint16_t owner_b, uint32_t token_b, uint32_t count = 2) {
    Bytes out;
    auto put = [&](uint64_t v, int n) {  // little-endian
      for (int i = 0; i < n; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
    };
    auto name = [&](uint8_t last) {
      for (int i = 0; i < 5; ++i) out.push_back(0);
      out.push_back(last);
    };
    put(1, 1);                               // format
    put(0x0A000000, 4), put(0x0A000100, 4);  // universe
    name(1);                                 // holder
    put(1, 2), name(1);                      // seeds
    put(2, 2), name(1), name(2);             // owners
    put(count, 4);
    put(0x0A000000, 4), put(0, 2), put(0, 4), put(0, 4);
    put(token_b, 4), put(owner_b, 2), put(0, 4), put(0, 4);
    return out;
  };
  const auto good = decode_ring(ring_bytes(1, 0x0A000080));
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->entries(), (std::vector<Entry>{E(dot(0), P(1), 0, 0), E(dot(128), P(2), 0, 0)}));
  EXPECT_EQ(error_of(decode_ring(ring_bytes(2, 0x0A000080))),
            "ipam ring: entry 1: owner index 2 out of range");
  EXPECT_EQ(error_of(decode_ring(ring_bytes(1, 0x0A000000))),
            "ipam ring: Token appears twice in ring: 10.0.0.0");
  EXPECT_EQ(error_of(decode_ring(ring_bytes(1, 0x0B000000))),
            "ipam ring: Token is out of range: 11.0.0.0 is outside 10.0.0.0-10.0.0.255");
  EXPECT_EQ(error_of(decode_ring(ring_bytes(1, 0x0A000080, 1000000))),
            "ipam ring: entry count 1000000 exceeds the 28 bytes left");
}

TEST(IpamCodec, EveryTruncationFailsAndEveryCorruptionIsRefusedOrValid) {
  const Bytes b = encode_ring(sample_ring());
  for (size_t n = 0; n < b.size(); ++n) {
    EXPECT_FALSE(decode_ring(ByteView(b.data(), n)).ok()) << n;
  }
  for (size_t i = 0; i < b.size(); ++i) {
    for (uint8_t bit = 1; bit != 0; bit <<= 1) {
      Bytes c = b;
      c[i] ^= bit;
      const auto r = decode_ring(c);
      if (r.ok()) {
        EXPECT_TRUE(r->check_invariants().ok());
      }
    }
  }
}

TEST(IpamCodec, PaxosStateRoundTrips) {
  const auto s = sample_paxos();
  const Bytes bytes = encode_paxos(s);
  const auto back = decode_paxos(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, s);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_paxos(ByteView(bytes.data(), n)).ok()) << n;
  }
}

TEST(IpamCodec, PaxosNodesMustBeInOrderAndNamed) {
  Bytes bytes = encode_paxos(sample_paxos());
  // Make the second node's name equal to the first's, with a smaller UID.
  const size_t second = 3 + 14 + 3 * 22 + 2 + 2 * 6;
  Bytes swapped = bytes;
  std::copy(bytes.begin() + 3, bytes.begin() + 3 + 6, swapped.begin() + second);
  swapped[second + 6] = 1;
  const auto r = decode_paxos(swapped);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "ipam paxos: node 1: nodes not in strictly increasing order");
  Bytes unnamed = bytes;
  std::fill(unnamed.begin() + 3, unnamed.begin() + 9, 0);
  EXPECT_EQ(decode_paxos(unnamed).error().message, "ipam paxos: node 0 is the unknown peer name");
}

TEST(IpamCodec, GossipCarriesNicknamesAndPaxosOrRing) {
  IpamGossip g;
  g.nicknames = {{P(1), "host1"}, {P(2), "host2"}};
  g.paxos = sample_paxos();
  auto back = decode_gossip(encode_gossip(g));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->nicknames, g.nicknames);
  EXPECT_EQ(back->paxos, g.paxos);
  EXPECT_FALSE(back->ring.has_value());

  IpamGossip h;
  h.ring = sample_ring();
  back = decode_gossip(encode_gossip(h));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->paxos.empty());
  ASSERT_TRUE(back->ring.has_value());
  EXPECT_EQ(back->ring->entries(), h.ring->entries());

  // An observer's request: nothing but nicknames.
  IpamGossip ask;
  ask.nicknames = {{P(3), "observer"}};
  back = decode_gossip(encode_gossip(ask));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->paxos.empty());
  EXPECT_FALSE(back->ring.has_value());
}

TEST(IpamCodec, GossipGarbageIsRefused) {
  EXPECT_EQ(decode_gossip(Bytes{1, 4, 0, 0}).error().message, "ipam gossip: unknown flags 4");
  EXPECT_EQ(decode_gossip(Bytes{1, 2, 0, 0}).error().message, "ipam gossip: truncated ring length");
  EXPECT_EQ(decode_gossip(Bytes{1, 2, 0, 0, 1, 0, 0, 0, 9}).error().message,
            "ipam gossip: ipam ring: unknown format 9");
  EXPECT_EQ(decode_gossip(Bytes{1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 5, 'a'}).error().message,
            "ipam gossip: truncated nickname 0");
  IpamGossip g;
  g.ring = sample_ring();
  const Bytes b = encode_gossip(g);
  for (size_t n = 0; n < b.size(); ++n) EXPECT_FALSE(decode_gossip(ByteView(b.data(), n)).ok());
}

TEST(IpamCodec, RangeRoundTripsAndMustNotBeEmpty) {
  const Range r{dot(10), dot(20)};
  EXPECT_EQ(*decode_range(encode_range(r)), r);
  EXPECT_EQ(decode_range(encode_range(Range{dot(20), dot(20)})).error().message,
            "ipam range: empty range 10.0.0.20-10.0.0.19");
  EXPECT_EQ(decode_range(Bytes{1, 2, 3}).error().message, "ipam range: truncated start");
}

}  // namespace
}  // namespace loom::ipam
