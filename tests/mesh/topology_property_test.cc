// Property: merging a set of topology updates gives the same topology, and
// the same routes, whatever the order and duplication of the updates.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "model/mesh/routes.h"
#include "model/random.h"
#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::encode_records;
using testing::P;
using testing::Record;

constexpr uint64_t kUs = 1;
constexpr uint64_t kPeers = 9;  // names 1..9; 1 is us

// Records about peers 2..9 (and old incarnations of us). Two records about
// one peer never share (version, UID) unless they differ only in having a
// short ID: Weave's rules leave that one case order-dependent.
std::vector<Record> gen_records() {
  std::vector<Record> out;
  for (uint64_t name = kUs; name <= kPeers; ++name) {
    std::set<std::pair<uint64_t, uint64_t>> seen;
    const auto count = *rc::gen::inRange<int>(0, 4);
    for (int i = 0; i < count; ++i) {
      Record r;
      r.name = P(name);
      r.version = *rc::gen::inRange<uint64_t>(0, 6);
      r.uid = *rc::gen::inRange<uint64_t>(1, 4);
      if (name == kUs && r.uid == 1000 + kUs) continue;  // our own UID: not old
      if (!seen.insert({r.version, r.uid}).second) continue;
      r.nickname = std::to_string(r.version);
      for (uint64_t remote = 1; remote <= kPeers; ++remote) {
        if (remote != name && *rc::gen::inRange<int>(0, 3) == 0) {
          r.connections.push_back(conn(remote, *rc::gen::arbitrary<bool>()));
        }
      }
      r.has_short_id = *rc::gen::arbitrary<bool>();
      r.short_id = *rc::gen::inRange<ShortID>(0, 4);
      out.push_back(r);
      if (r.has_short_id && *rc::gen::arbitrary<bool>()) {
        Record twin = r;  // same version and UID, no short ID: loses
        twin.has_short_id = false;
        twin.connections.clear();
        out.push_back(twin);
      }
    }
  }
  return out;
}

// Us with a local reference to every peer (so GC, which is order-sensitive
// by design, stays out of it) and a few connections of our own.
Peers fresh() {
  Peers peers(P(kUs), "us", 1000 + kUs);
  for (uint64_t n = 2; n <= kPeers; ++n) peers.add_reference(P(n), "", 0);
  peers.add_connection(P(2), Endpoint{}, true, true);
  peers.add_connection(P(5), Endpoint{}, false, true);
  return peers;
}

struct Snapshot {
  std::vector<std::tuple<PeerName, uint64_t, PeerUID, std::string, bool, ShortID,
                         std::vector<PeerConnection>>>
      peers;
  std::vector<std::pair<PeerName, PeerName>> unicast, unicast_all;
  std::vector<std::vector<PeerName>> broadcast;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const Peers& peers) {
  Snapshot s;
  for (const Peer& p : peers.all()) {
    s.peers.emplace_back(p.name, p.version, p.uid, p.nickname, p.has_short_id,
                         p.has_short_id ? p.short_id : 0, p.connections);
  }
  Routes routes(peers);
  s.unicast = routes.table(Routes::Over::established_symmetric);
  s.unicast_all = routes.table(Routes::Over::all_connections);
  for (PeerName n : routes.peers()) {
    s.broadcast.push_back(routes.broadcast(n));
    s.broadcast.push_back(routes.broadcast_all(n));
  }
  return s;
}

TEST(TopologyProperty, AnyOrderAndDuplicationMergesToTheSameTopology) {
  const bool ok = rc::check("merge order and duplication do not matter", [] {
    const std::vector<Record> records = gen_records();
    const auto update_count = *rc::gen::inRange<size_t>(1, 6);
    std::vector<std::vector<Record>> updates(update_count);
    for (const Record& r : records) {
      updates[*rc::gen::inRange<size_t>(0, update_count)].push_back(r);
      if (*rc::gen::inRange<int>(0, 4) == 0) {
        updates[*rc::gen::inRange<size_t>(0, update_count)].push_back(r);  // again, elsewhere
      }
    }
    std::vector<Bytes> encoded;
    for (const auto& u : updates) encoded.push_back(encode_records(u));

    Peers in_order = fresh();
    for (const Bytes& b : encoded) RC_ASSERT(in_order.merge(b).ok());

    // Another order, with repeats, and each update's records shuffled.
    loom::Random random(*rc::gen::arbitrary<uint64_t>());
    std::vector<Bytes> shuffled;
    for (auto u : updates) {
      std::shuffle(u.begin(), u.end(), random);
      shuffled.push_back(encode_records(u));
      if (random.chance(0.3)) shuffled.push_back(shuffled.back());
    }
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    Peers other = fresh();
    for (const Bytes& b : shuffled) RC_ASSERT(other.merge(b).ok());

    RC_ASSERT(snapshot(in_order) == snapshot(other));
    // The digest, kept up to date change by change, depends on the state
    // reached, not on the path (placeholders and GC on the way included).
    RC_ASSERT(in_order.digest() == other.digest());
  });
  EXPECT_TRUE(ok);
}

TEST(TopologyProperty, EncodeAllThenMergeReproducesEveryPeer) {
  const bool ok = rc::check("encode_all round trip", [] {
    Peers source = fresh();
    std::vector<Record> records = gen_records();
    RC_ASSERT(source.merge(encode_records(records)).ok());
    Peers copy = fresh();
    RC_ASSERT(copy.merge(source.encode_all()).ok());
    for (const Peer& p : source.all()) {
      if (p.name == P(kUs)) continue;
      const Peer* q = copy.find(p.name);
      RC_ASSERT(q != nullptr);
      RC_ASSERT(q->connections == p.connections);
      RC_ASSERT(q->version == p.version);
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace loom::mesh
