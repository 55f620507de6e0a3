#include "model/mesh/peers.h"

#include <gtest/gtest.h>

#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::encode_records;
using testing::P;
using testing::Record;

PeerNameSet names(std::initializer_list<uint64_t> ns) {
  PeerNameSet out;
  for (auto n : ns) out.push_back(P(n));
  return out;
}

// Us (1) connected to 2, so records about 2 and what 2 reaches are kept.
Peers connected_to_two() {
  Peers peers(P(1), "one", 11);
  EXPECT_TRUE(peers.add_connection(P(2), Endpoint{Ipv4(2), 6783}, true, true));
  return peers;
}

TEST(Peers, NewPeerIsTakenWithItsConnectionsAndUnknownRemotesBecomePlaceholders) {
  Peers peers = connected_to_two();
  auto r = peers.merge(encode_records({Record{P(2), 22, 5, {conn(1), conn(3)}}}));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->received, names({2}));
  EXPECT_EQ(r->changed, names({2}));
  EXPECT_TRUE(r->removed.empty());
  const Peer* two = peers.find(P(2));
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->version, 5u);
  EXPECT_EQ(two->uid, 22u);
  ASSERT_EQ(two->connections.size(), 2u);
  EXPECT_EQ(two->connections[1].remote, P(3));
  EXPECT_EQ(two->connections[1].address, (Endpoint{Ipv4(0x0a000003), 6783}));
  const Peer* three = peers.find(P(3));
  ASSERT_NE(three, nullptr);
  EXPECT_EQ(three->uid, 0u);  // placeholder
  EXPECT_EQ(three->version, 0u);
  EXPECT_TRUE(three->connections.empty());
}

TEST(Peers, OlderRecordIsIgnoredNewerWins) {
  Peers peers = connected_to_two();
  ASSERT_TRUE(peers.merge(encode_records({Record{P(2), 22, 5, {conn(1), conn(3)}}})).ok());
  auto older = peers.merge(encode_records({Record{P(2), 22, 4, {conn(1)}}}));
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(older->received, names({2}));
  EXPECT_TRUE(older->changed.empty());
  EXPECT_EQ(peers.find(P(2))->connections.size(), 2u);
  auto same = peers.merge(encode_records({Record{P(2), 22, 5, {conn(1)}}}));
  EXPECT_TRUE(same->changed.empty());
  auto newer = peers.merge(encode_records({Record{P(2), 22, 6, {conn(1)}, "renamed"}}));
  EXPECT_EQ(newer->changed, names({2}));
  EXPECT_EQ(peers.find(P(2))->nickname, "renamed");
  EXPECT_EQ(peers.find(P(2))->connections.size(), 1u);
  EXPECT_EQ(newer->removed, names({3}));  // 3 no longer reachable
  EXPECT_EQ(peers.find(P(3)), nullptr);
}

TEST(Peers, EqualVersionHigherUidWins) {
  Peers peers = connected_to_two();
  ASSERT_TRUE(peers.merge(encode_records({Record{P(2), 50, 5, {conn(1)}}})).ok());
  EXPECT_TRUE(
      peers.merge(encode_records({Record{P(2), 40, 5, {conn(1), conn(3)}}}))->changed.empty());
  auto r = peers.merge(encode_records({Record{P(2), 60, 5, {conn(1), conn(3)}}}));
  EXPECT_EQ(r->changed, names({2}));
  EXPECT_EQ(peers.find(P(2))->uid, 60u);
}

TEST(Peers, EqualVersionAndUidNewShortIdWins) {
  Peers peers = connected_to_two();
  ASSERT_TRUE(peers.merge(encode_records({Record{P(2), 50, 5, {conn(1)}}})).ok());
  Record with_id{P(2), 50, 5, {conn(1)}, "n", 77, true};
  auto r = peers.merge(encode_records({with_id}));
  EXPECT_EQ(r->changed, names({2}));
  EXPECT_TRUE(r->short_ids_changed);
  EXPECT_TRUE(peers.find(P(2))->has_short_id);
  EXPECT_EQ(peers.find(P(2))->short_id, 77);
  // Both have one now: the same record is no longer news.
  Record other_id{P(2), 50, 5, {conn(1)}, "n", 78, true};
  EXPECT_TRUE(peers.merge(encode_records({other_id}))->changed.empty());
}

TEST(Peers, RecordAboutAnOldIncarnationOfUsBumpsOurVersion) {
  Peers peers = connected_to_two();
  const uint64_t before = peers.local().version;
  auto r = peers.merge(encode_records({Record{P(1), 999, 40, {}}}));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ourselves_bumped);
  EXPECT_EQ(peers.local().version, 41u);
  EXPECT_EQ(peers.local().uid, 11u);
  EXPECT_GT(41u, before);
  EXPECT_TRUE(r->changed.empty());
  // Our own current record (same UID) changes nothing.
  auto same = peers.merge(encode_records({Record{P(1), 11, 100, {}}}));
  EXPECT_FALSE(same->ourselves_bumped);
  EXPECT_EQ(peers.local().version, 41u);
  EXPECT_EQ(peers.local().connections.size(), 1u);
}

TEST(Peers, UnreachablePeersAreCollectedUnlessLocallyReferenced) {
  Peers peers(P(1), "one", 11);
  peers.add_reference(P(5), "five", 55);  // a connection being set up
  auto r =
      peers.merge(encode_records({Record{P(4), 44, 1, {conn(5)}}, Record{P(5), 55, 1, {conn(4)}}}));
  ASSERT_TRUE(r.ok());
  // Neither is reachable from us; 5 is referenced, 4 is not.
  EXPECT_EQ(r->removed, names({4}));
  EXPECT_EQ(r->changed, names({5}));
  EXPECT_NE(peers.find(P(5)), nullptr);
  peers.drop_reference(P(5));
  EXPECT_EQ(peers.garbage_collect(), names({5}));
  EXPECT_EQ(peers.size(), 1u);
}

TEST(Peers, LocalConnectionChangesBumpOurVersion) {
  Peers peers(P(1), "one", 11);
  EXPECT_TRUE(peers.add_connection(P(2), Endpoint{Ipv4(2), 6783}, true, false));
  EXPECT_EQ(peers.local().version, 1u);
  EXPECT_FALSE(peers.add_connection(P(2), Endpoint{Ipv4(2), 6783}, true, false));
  EXPECT_FALSE(peers.add_connection(P(1), Endpoint{Ipv4(1), 6783}, true, false));
  EXPECT_TRUE(peers.establish_connection(P(2)));
  EXPECT_FALSE(peers.establish_connection(P(2)));
  EXPECT_EQ(peers.local().version, 2u);
  EXPECT_TRUE(peers.delete_connection(P(2)));
  EXPECT_FALSE(peers.delete_connection(P(2)));
  EXPECT_EQ(peers.local().version, 3u);
  EXPECT_EQ(peers.garbage_collect(), names({2}));
}

TEST(Peers, EncodeAllRoundTripsIntoAnotherPeer) {
  Peers a = testing::make_topology(1, testing::symmetric({{1, 2}, {2, 3}, {3, 4}, {4, 1}}));
  Peers b(P(9), "nine", 99);
  b.add_connection(P(1), Endpoint{Ipv4(1), 6783}, true, true);
  auto r = b.merge(a.encode_all());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->received, names({1, 2, 3, 4}));
  for (uint64_t n = 1; n <= 4; ++n) {
    const Peer* x = a.find(P(n));
    const Peer* y = b.find(P(n));
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(x->version, y->version);
    EXPECT_EQ(x->uid, y->uid);
    EXPECT_EQ(x->nickname, y->nickname);
    EXPECT_EQ(x->connections, y->connections);
  }
  // Merging it again is a no-op.
  EXPECT_TRUE(b.merge(a.encode_all())->changed.empty());
  // encode(names) carries only those records.
  auto view = TopologyUpdateView::decode(a.encode(names({2, 3, 77})));
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record_count(), 2u);
}

TEST(Peers, MergeNamesIsASetUnion) {
  EXPECT_EQ(merge_names(names({1, 3, 5}), names({2, 3, 6})), names({1, 2, 3, 5, 6}));
  EXPECT_EQ(merge_names({}, names({4})), names({4}));
}

TEST(Peers, InvalidUpdateChangesNothing) {
  Peers peers = connected_to_two();
  Bytes good = encode_records({Record{P(2), 22, 5, {conn(1), conn(3)}}});
  good.pop_back();
  EXPECT_FALSE(peers.merge(good).ok());
  EXPECT_EQ(peers.size(), 2u);
  EXPECT_EQ(peers.find(P(2))->uid, 0u);
}

// Two peers exchanging their topologies agree on the digest exactly when
// their full topologies are equal, whatever order the records came in.
TEST(Peers, DigestsAgreeExactlyWhenTopologiesDo) {
  Peers a(P(1), "one", 11);
  Peers b(P(2), "two", 22);
  ASSERT_TRUE(a.add_connection(P(2), Endpoint{Ipv4(2), 6783}, true, true));
  ASSERT_TRUE(b.add_connection(P(1), Endpoint{Ipv4(1), 6783}, false, true));
  auto exchange = [&] {
    ASSERT_TRUE(a.merge(b.encode_all()).ok());
    ASSERT_TRUE(b.merge(a.encode_all()).ok());
  };
  auto agree = [&] { return a.encode_all() == b.encode_all(); };
  EXPECT_NE(a.digest(), b.digest());
  exchange();
  EXPECT_TRUE(agree());
  EXPECT_EQ(a.digest(), b.digest());

  // b connects to 3 (a placeholder): a differs until it hears of it.
  ASSERT_TRUE(b.add_connection(P(3), Endpoint{Ipv4(3), 6783}, true, false));
  EXPECT_NE(a.digest(), b.digest());
  ASSERT_TRUE(a.merge(b.encode(names({2}))).ok());
  EXPECT_TRUE(agree());
  EXPECT_EQ(a.digest(), b.digest());

  // 3's own record, heard by a first and by b in an older then newer form.
  ASSERT_TRUE(a.merge(encode_records({Record{P(3), 33, 4, {conn(2)}}})).ok());
  EXPECT_NE(a.digest(), b.digest());
  ASSERT_TRUE(b.merge(encode_records({Record{P(3), 33, 3, {}}})).ok());
  EXPECT_NE(a.digest(), b.digest());
  ASSERT_TRUE(b.merge(encode_records({Record{P(3), 33, 4, {conn(2)}}})).ok());
  EXPECT_TRUE(agree());
  EXPECT_EQ(a.digest(), b.digest());

  // b drops 3; a hears it and collects 3: both back to {1, 2}.
  const uint64_t before_three = a.digest();
  ASSERT_TRUE(b.delete_connection(P(3)));
  b.garbage_collect();
  ASSERT_EQ(b.find(P(3)), nullptr);
  ASSERT_TRUE(a.merge(b.encode(names({2}))).ok());
  ASSERT_EQ(a.find(P(3)), nullptr);
  EXPECT_TRUE(agree());
  EXPECT_EQ(a.digest(), b.digest());
  EXPECT_NE(a.digest(), before_three);

  // A short ID change is a change of our record.
  const uint64_t before_id = b.digest();
  b.set_short_id(99);
  EXPECT_NE(b.digest(), before_id);
  exchange();
  EXPECT_EQ(a.digest(), b.digest());
}

}  // namespace
}  // namespace loom::mesh
