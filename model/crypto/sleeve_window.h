// Sleeve's replay window, Weave's NaClDecryptorInstance.advanceState
// (weave:router/crypto.go, Weave 2.x; weave-protocol.md 4.3).
//
// Sequence numbers are cut into windows of 2^20. Two bitsets remember
// which offsets were seen: one for the current window (the one holding the
// highest number seen) and one for the window before it. A number in the
// current window or the one before is checked against its bitset; one
// further back is refused; one a window ahead slides both down by one; one
// further ahead starts both afresh, so a long loss of packets is survived.
// A late packet is accepted once if it lies in the highest number's window
// or the one before: 2^20 to 2^21 - 1 numbers back, by where in its window
// the highest number falls.
//
// Weave runs this only after a packet authenticated: a forged packet with
// a huge number must not drag the window away from the real ones.
//
// Go's bit.Set grows with the highest offset set; these bitsets do too, so
// a quiet connection costs bytes, a busy one at most 2 x 128 KiB.
#pragma once

#include <cstdint>
#include <vector>

namespace loom::crypto {

class SleeveWindow {
 public:
  static constexpr unsigned kWindowBits = 20;  // Weave's WindowSize
  static constexpr uint64_t kWindowSize = uint64_t{1} << kWindowBits;

  enum class Verdict : uint8_t {
    kFresh,      // first time: accepted and recorded
    kDuplicate,  // seen already (in the current or previous window)
    kTooOld,     // more than one window behind the current one
  };

  // Moves the window as the number demands, then records it unless seen.
  Verdict advance(uint64_t sequence);

  uint64_t current_window() const { return current_; }

 private:
  using Bits = std::vector<uint64_t>;
  static bool test_and_set(Bits& bits, uint64_t offset);

  uint64_t current_ = 0;
  Bits used_;
  Bits previous_;
};

}  // namespace loom::crypto
