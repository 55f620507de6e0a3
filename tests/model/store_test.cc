#include <gtest/gtest.h>

#include "model/host.h"

namespace loom {
namespace {

TEST(MemoryStore, PutGetEraseKeys) {
  MemoryStore s;
  EXPECT_FALSE(s.get("ring"));
  ASSERT_TRUE(s.put("ring", std::string("a\0b", 3)));
  ASSERT_TRUE(s.put("alloc", "x"));
  EXPECT_EQ(*s.get("ring"), std::string("a\0b", 3));
  EXPECT_EQ(s.keys(), (std::vector<std::string>{"alloc", "ring"}));
  ASSERT_TRUE(s.put("ring", "new"));
  EXPECT_EQ(*s.get("ring"), "new");
  ASSERT_TRUE(s.erase("ring"));
  ASSERT_TRUE(s.erase("never-there"));
  EXPECT_FALSE(s.get("ring"));
  s.clear();
  EXPECT_TRUE(s.keys().empty());
}

TEST(Result, CarriesValueOrError) {
  Result<int> good = 3;
  Result<int> bad = make_error("no");
  ASSERT_TRUE(good);
  EXPECT_EQ(*good, 3);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "no");
  Result<void> ok;
  Result<void> fail = make_error("why");
  EXPECT_TRUE(ok);
  EXPECT_EQ(fail.error().message, "why");
}

TEST(ByteView, SubviewClamps) {
  Bytes b{1, 2, 3, 4};
  ByteView v(b);
  EXPECT_EQ(v.subview(1, 2).size(), 2u);
  EXPECT_EQ(v.subview(1, 2)[0], 2);
  EXPECT_EQ(v.subview(3, 10).size(), 1u);
  EXPECT_EQ(v.subview(9).size(), 0u);
  EXPECT_EQ(ByteView(std::string_view("ab")).as_chars(), "ab");
}

}  // namespace
}  // namespace loom
