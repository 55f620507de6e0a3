#include "model/mesh/topology_update.h"

#include <gtest/gtest.h>

#include "tests/mesh/topology_test_util.h"

namespace loom::mesh {
namespace {

using testing::conn;
using testing::encode_records;
using testing::P;
using testing::Record;

Bytes sample() {
  return encode_records({Record{P(0x0a0b0c0d0e0f),
                                7,
                                3,
                                {conn(2, true, false), conn(9, false, true)},
                                "alpha",
                                0x123,
                                true},
                         Record{P(2), 8, 1, {}, "", 0, false}});
}

TEST(TopologyUpdate, DecodesWhatWasWritten) {
  const Bytes bytes = sample();
  auto view = TopologyUpdateView::decode(bytes);
  ASSERT_TRUE(view.ok()) << view.error().message;
  EXPECT_EQ(view->name_count(), 3u);
  ASSERT_EQ(view->record_count(), 2u);
  const PeerSummary s = view->summary(0);
  EXPECT_EQ(s.name, P(0x0a0b0c0d0e0f));
  EXPECT_EQ(s.nickname, "alpha");
  EXPECT_EQ(s.uid, 7u);
  EXPECT_EQ(s.version, 3u);
  EXPECT_TRUE(s.has_short_id);
  EXPECT_EQ(s.short_id, 0x123);
  std::vector<PeerConnection> conns;
  view->for_each_connection(0, [&](size_t, const PeerConnection& c) { conns.push_back(c); });
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0], conn(2, true, false));
  EXPECT_EQ(conns[1], conn(9, false, true));
  EXPECT_FALSE(view->summary(1).has_short_id);
  EXPECT_EQ(view->connection_count(1), 0u);
}

TEST(TopologyUpdate, EveryTruncationIsAnError) {
  const Bytes bytes = sample();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto view = TopologyUpdateView::decode(ByteView(bytes.data(), n));
    EXPECT_FALSE(view.ok()) << "length " << n;
  }
}

TEST(TopologyUpdate, ErrorsSayWhatWasWrong) {
  auto message = [](const Bytes& b) {
    auto v = TopologyUpdateView::decode(b);
    return v.ok() ? std::string("ok") : v.error().message;
  };
  Bytes b = sample();
  b[0] = 2;
  EXPECT_NE(message(b).find("unknown format"), std::string::npos);
  b = sample();
  b.push_back(0);
  EXPECT_NE(message(b).find("trailing"), std::string::npos);
  // Names: 2 (index 0), 9 (index 1), 0a0b.. (index 2), each 6 bytes from 3.
  b = sample();
  std::swap(b[3 + 5], b[3 + 6 + 5]);  // 9 before 2
  EXPECT_NE(message(b).find("not strictly increasing"), std::string::npos);
  b = sample();
  b[3 + 5] = 0;  // name 2 becomes 0
  EXPECT_NE(message(b).find("unknown peer name"), std::string::npos);
  const size_t first_record = 3 + 3 * 6 + 2;
  b = sample();
  b[first_record] = 3;  // name index 3 of 3
  EXPECT_NE(message(b).find("name index out of range"), std::string::npos);
  b = sample();
  b[first_record + 19] |= 0x10;
  EXPECT_NE(message(b).find("reserved short ID bits"), std::string::npos);
  const size_t first_connection = first_record + 21 + 5 + 2;
  b = sample();
  b[first_connection + 2] = 4;
  EXPECT_NE(message(b).find("unknown flags"), std::string::npos);
  b = sample();
  b[first_connection + 9] = 0;  // second connection names index 0 again
  EXPECT_NE(message(b).find("increasing name order"), std::string::npos);
  b = sample();
  b[first_connection] = 7;
  EXPECT_NE(message(b).find("out of range"), std::string::npos);
}

TEST(TopologyUpdate, HugeCountsInATinyMessageAreRejectedCheaply) {
  Bytes b{TopologyUpdateView::kFormat, 0, 0, 0xff, 0xff};
  EXPECT_FALSE(TopologyUpdateView::decode(b).ok());
  b = {TopologyUpdateView::kFormat, 0xff, 0xff};
  EXPECT_FALSE(TopologyUpdateView::decode(b).ok());
}

}  // namespace
}  // namespace loom::mesh
