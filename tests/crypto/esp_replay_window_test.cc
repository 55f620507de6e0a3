#include "model/crypto/esp_replay_window.h"

#include <limits>
#include <set>

#include <gtest/gtest.h>

#include "model/random.h"

namespace loom::crypto {
namespace {

using Check = EspReplayWindow::Check;
constexpr uint64_t k2To32 = uint64_t{1} << 32;

// RFC 4303 Appendix A2.2, case A: the window [Tl - 255, Tl] lies inside one
// 2^32 block; a low part below it belongs to the next block.
TEST(EspReplayWindow, ReconstructsHighBitsWhenTheWindowIsInsideOneBlock) {
  const EspReplayWindow w(true, 5 * k2To32 + 1000);
  EXPECT_EQ(w.reconstruct(1000), 5 * k2To32 + 1000);
  EXPECT_EQ(w.reconstruct(745), 5 * k2To32 + 745);    // the window's bottom
  EXPECT_EQ(w.reconstruct(2000), 5 * k2To32 + 2000);  // ahead, same block
  EXPECT_EQ(w.reconstruct(744), 6 * k2To32 + 744);    // below the bottom: next block
  EXPECT_EQ(w.reconstruct(0), 6 * k2To32);
}

// Case B: Tl < 255, so the window reaches back into the previous block; a
// low part at or above the wrapped bottom belongs to that block.
TEST(EspReplayWindow, ReconstructsHighBitsWhenTheWindowSpansTwoBlocks) {
  const EspReplayWindow w(true, 5 * k2To32 + 10);
  EXPECT_EQ(w.reconstruct(10), 5 * k2To32 + 10);
  EXPECT_EQ(w.reconstruct(0), 5 * k2To32);
  EXPECT_EQ(w.reconstruct(5000), 5 * k2To32 + 5000);
  EXPECT_EQ(w.reconstruct(0xffffffff), 4 * k2To32 + 0xffffffff);
  EXPECT_EQ(w.reconstruct(0xffffff0b), 4 * k2To32 + 0xffffff0b);  // 10 - 255 + 1, wrapped
  EXPECT_EQ(w.reconstruct(0xffffff0a), 5 * k2To32 + 0xffffff0a);  // just below it
}

TEST(EspReplayWindow, NothingBeforeTheFirstNumberOrPastTheLast) {
  // A fresh SA: numbers just "below" 0 would be in block -1.
  const EspReplayWindow fresh(true);
  EXPECT_EQ(fresh.reconstruct(1), 1u);
  EXPECT_EQ(fresh.reconstruct(0xffffffff), std::nullopt);
  const EspReplayWindow last(true, std::numeric_limits<uint64_t>::max() - 1);
  EXPECT_EQ(last.reconstruct(0xffffffff), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(last.reconstruct(3), std::nullopt);
  // Without ESN the number is what the packet says.
  EXPECT_EQ(EspReplayWindow(false, 10).reconstruct(0xffffffff), 0xffffffffu);
}

TEST(EspReplayWindow, AcceptsEachNumberOnceAndForgetsWhatFallsBehind) {
  EspReplayWindow w(true);
  EXPECT_EQ(w.check(0), Check::kBehind);  // 0 is never sent
  EXPECT_EQ(w.check(1), Check::kNew);
  w.accept(1);
  EXPECT_EQ(w.check(1), Check::kReplayed);
  w.accept(300);
  EXPECT_EQ(w.top(), 300u);
  EXPECT_EQ(w.check(1), Check::kBehind);
  EXPECT_EQ(w.check(44), Check::kBehind);  // 300 - 256
  EXPECT_EQ(w.check(45), Check::kNew);     // the window's bottom
  EXPECT_EQ(w.check(299), Check::kNew);
  w.accept(45);
  EXPECT_EQ(w.check(45), Check::kReplayed);
  EXPECT_EQ(w.check(300), Check::kReplayed);
  EXPECT_EQ(w.check(301), Check::kNew);
}

// The window against a plain reference (a set of everything accepted) over
// random traffic around a moving top, across every shift size.
TEST(EspReplayWindow, MatchesAReferenceModelOnRandomTraffic) {
  Random random(42);
  EspReplayWindow w(true, 1000);
  std::set<uint64_t> accepted;
  uint64_t top = 1000;
  for (int i = 0; i < 200000; ++i) {
    const int64_t delta = random.between(-300, 300);
    const uint64_t s = static_cast<uint64_t>(static_cast<int64_t>(top) + delta);
    Check expected;
    if (s > top) {
      expected = Check::kNew;
    } else if (top - s >= 256) {
      expected = Check::kBehind;
    } else {
      expected = accepted.count(s) ? Check::kReplayed : Check::kNew;
    }
    ASSERT_EQ(w.check(s), expected) << "sequence " << s << ", top " << top;
    if (expected == Check::kNew) {
      w.accept(s);
      accepted.insert(s);
      if (s > top) top = s;
    }
    ASSERT_EQ(w.top(), top);
  }
}

TEST(EspReplayWindow, WithoutEsnNothingAbove32Bits) {
  EspReplayWindow w(false, 0xfffffff0);
  EXPECT_EQ(w.check(0xffffffff), Check::kNew);
  EXPECT_EQ(w.check(k2To32), Check::kBehind);
}

}  // namespace
}  // namespace loom::crypto
