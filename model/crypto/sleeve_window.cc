#include "model/crypto/sleeve_window.h"

namespace loom::crypto {

bool SleeveWindow::test_and_set(Bits& bits, uint64_t offset) {
  const uint64_t word = offset / 64;
  if (word >= bits.size()) bits.resize(word + 1, 0);
  const uint64_t mask = uint64_t{1} << (offset % 64);
  const bool was_set = (bits[word] & mask) != 0;
  bits[word] |= mask;
  return was_set;
}

SleeveWindow::Verdict SleeveWindow::advance(uint64_t sequence) {
  const uint64_t offset = sequence & (kWindowSize - 1);
  const uint64_t window = sequence >> kWindowBits;
  Bits* bits = &used_;
  if (window + 1 < current_) {
    return Verdict::kTooOld;
  } else if (window + 1 == current_) {
    bits = &previous_;
  } else if (window == current_ + 1) {
    current_ = window;
    previous_.swap(used_);
    used_.clear();
  } else if (window > current_ + 1) {
    current_ = window;
    previous_.clear();
    used_.clear();
  }
  return test_and_set(*bits, offset) ? Verdict::kDuplicate : Verdict::kFresh;
}

}  // namespace loom::crypto
