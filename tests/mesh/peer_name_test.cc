#include "model/mesh/peer_name.h"

#include <gtest/gtest.h>

namespace loom::mesh {
namespace {

TEST(PeerName, ParsesAndPrintsMacForm) {
  auto n = PeerName::parse("aa:BB:0c:dd:ee:0f");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->value, 0xaabb0cddee0fULL);
  EXPECT_EQ(n->to_string(), "aa:bb:0c:dd:ee:0f");
  EXPECT_EQ(PeerName::parse("a:b:c:d:e:f")->to_string(), "0a:0b:0c:0d:0e:0f");
}

TEST(PeerName, AcceptsTheDoubleColonShorthand) {
  EXPECT_EQ(PeerName::parse("::1")->value, 1u);
  EXPECT_EQ(PeerName::parse("::")->value, 0u);
  EXPECT_EQ(PeerName::parse("aa::")->to_string(), "aa:00:00:00:00:00");
  EXPECT_EQ(PeerName::parse("aa::ff")->to_string(), "aa:00:00:00:00:ff");
  EXPECT_EQ(PeerName::parse("1:2::5:6")->to_string(), "01:02:00:00:05:06");
}

TEST(PeerName, RejectsMalformedNames) {
  for (const char* bad :
       {"", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aaa:bb:cc:dd:ee:ff", "gg:bb:cc:dd:ee:ff",
        "aa:bb:cc:dd:ee:", "::1::", "1:2:3:4:5::6", "1:2:3::4:5:6", ":1", "aa-bb-cc-dd-ee-ff"}) {
    EXPECT_FALSE(PeerName::parse(bad)) << bad;
  }
}

TEST(PeerName, KeepsFortyEightBitsAndOrdersByValue) {
  EXPECT_EQ(PeerName(0xffff'aabb'ccdd'eeffULL).value, 0xaabbccddeeffULL);
  EXPECT_LT(PeerName(1), PeerName(2));
  EXPECT_TRUE(kUnknownPeerName.is_unknown());
}

}  // namespace
}  // namespace loom::mesh
