// The receiver's anti-replay window of one ESP SA (RFC 4303 section 3.4.3),
// 256 packets wide as Weave configures it (`replay-window 256`), with
// extended sequence numbers (ESN, RFC 4303 section 2.2.1 and Appendix A).
//
// With ESN, only the low 32 bits of the 64-bit sequence number travel in
// the packet; the receiver infers the high 32 bits from where its window is
// (Appendix A2.2), and the integrity check covers them, so a wrong guess
// fails to authenticate. The window records the highest number
// authenticated so far (its "top") and which of the 255 numbers below it
// have been seen. A number above the top is new; one inside the window is
// new unless seen; one below it, or 0, is refused.
//
// Checking does not change the window; accept() does, and the caller calls
// it only after the packet authenticated (RFC 4303 section 3.4.3), so a
// forged packet cannot move the window.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace loom::crypto {

class EspReplayWindow {
 public:
  static constexpr uint64_t kSize = 256;

  enum class Check : uint8_t {
    kNew,       // not seen, inside or above the window
    kReplayed,  // inside the window and seen before
    kBehind,    // below the window (too old to tell), or 0
  };

  // esn: whether sequence numbers are 64-bit. top: the highest number
  // already accepted; 0 for a fresh SA (its first packet is number 1).
  explicit EspReplayWindow(bool esn, uint64_t top = 0);

  // The full sequence number that a packet carrying the low 32 bits `low`
  // stands for (RFC 4303 Appendix A2.2); without ESN, `low` itself.
  // Nothing when it would lie before the SA's first number or past the
  // last possible one.
  std::optional<uint64_t> reconstruct(uint32_t low) const;

  Check check(uint64_t sequence) const;
  // Records an authenticated packet: slides the window up when `sequence`
  // is above the top. The caller checked it first (kNew).
  void accept(uint64_t sequence);

  uint64_t top() const { return top_; }
  bool esn() const { return esn_; }

 private:
  bool seen(uint64_t distance) const;

  bool esn_;
  uint64_t top_;
  // Bit i is sequence number top - i; bit 0 (the top itself) is set once
  // anything has been accepted.
  std::array<uint64_t, kSize / 64> bits_{};
};

}  // namespace loom::crypto
