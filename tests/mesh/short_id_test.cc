#include "model/mesh/short_id.h"

#include <gtest/gtest.h>

#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::encode_records;
using testing::P;
using testing::Record;

TEST(ShortId, LowestNameKeepsACollidingId) {
  Peers peers(P(5), "five", 55, 42, true);
  EXPECT_EQ(short_id_owner(peers, 42), P(5));
  EXPECT_FALSE(lost_short_id(peers));
  ASSERT_TRUE(peers.add_connection(P(9), Endpoint{}, true, true));
  ASSERT_TRUE(peers.add_connection(P(3), Endpoint{}, true, true));
  // 9 takes the same ID: we keep it (lower name).
  ASSERT_TRUE(peers.merge(encode_records({Record{P(9), 99, 1, {conn(5)}, "", 42, true}})).ok());
  EXPECT_EQ(short_id_owner(peers, 42), P(5));
  EXPECT_FALSE(lost_short_id(peers));
  // 3 too: it wins, we must pick another.
  auto r = peers.merge(encode_records({Record{P(3), 33, 1, {conn(5)}, "", 42, true}}));
  EXPECT_TRUE(r->short_ids_changed);
  EXPECT_EQ(short_id_owner(peers, 42), P(3));
  EXPECT_TRUE(lost_short_id(peers));
  Random random(3);
  auto id = choose_short_id(peers, random);
  ASSERT_TRUE(id);
  EXPECT_NE(*id, 42);
  const uint64_t version = peers.local().version;
  peers.set_short_id(*id);
  EXPECT_EQ(peers.local().version, version + 1);
  EXPECT_FALSE(lost_short_id(peers));
}

TEST(ShortId, ChoosesTheOnlyFreeIdWhenAlmostAllAreTaken) {
  Peers peers(P(1), "one", 11, 0, true);
  std::vector<Record> records;
  for (uint64_t i = 1; i < kShortIdCount; ++i) {
    if (i == 1234) continue;
    records.push_back(Record{P(100 + i), 1, 1, {conn(1)}, "", static_cast<ShortID>(i), true});
    peers.add_reference(P(100 + i), "", 0);  // keep them from GC
  }
  ASSERT_TRUE(peers.merge(encode_records(records)).ok());
  Random random(9);
  EXPECT_EQ(choose_short_id(peers, random), ShortID{1234});
}

}  // namespace
}  // namespace loom::mesh
