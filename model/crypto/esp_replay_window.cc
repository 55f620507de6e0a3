#include "model/crypto/esp_replay_window.h"

#include <cstddef>
#include <limits>

namespace loom::crypto {

namespace {

constexpr size_t kWords = EspReplayWindow::kSize / 64;

}  // namespace

EspReplayWindow::EspReplayWindow(bool esn, uint64_t top) : esn_(esn), top_(top) {
  if (!esn_ && top_ > std::numeric_limits<uint32_t>::max())
    top_ = std::numeric_limits<uint32_t>::max();
}

std::optional<uint64_t> EspReplayWindow::reconstruct(uint32_t low) const {
  if (!esn_) return low;
  // RFC 4303 Appendix A2.2, with W = 256, Tl/Th the low/high halves of the
  // top, and Seql = low.
  constexpr uint32_t kW = kSize;
  const auto tl = static_cast<uint32_t>(top_);
  const auto th = static_cast<uint32_t>(top_ >> 32);
  const uint32_t bottom = tl - kW + 1;  // modulo 2^32, as the RFC computes it
  uint64_t high = th;
  if (tl >= kW - 1) {
    // Case A: the window lies within one 2^32 subspace. Below its bottom
    // means the next subspace.
    if (low < bottom) {
      if (th == std::numeric_limits<uint32_t>::max()) return std::nullopt;
      high = uint64_t{th} + 1;
    }
  } else {
    // Case B: the window spans two subspaces. At or above its (wrapped)
    // bottom means the previous one.
    if (low >= bottom) {
      if (th == 0) return std::nullopt;  // before the SA's first number
      high = uint64_t{th} - 1;
    }
  }
  return (high << 32) | low;
}

bool EspReplayWindow::seen(uint64_t distance) const {
  return ((bits_[distance / 64] >> (distance % 64)) & 1) != 0;
}

EspReplayWindow::Check EspReplayWindow::check(uint64_t sequence) const {
  if (sequence == 0) return Check::kBehind;
  if (!esn_ && sequence > std::numeric_limits<uint32_t>::max()) return Check::kBehind;
  if (sequence > top_) return Check::kNew;
  const uint64_t distance = top_ - sequence;
  if (distance >= kSize) return Check::kBehind;
  return seen(distance) ? Check::kReplayed : Check::kNew;
}

void EspReplayWindow::accept(uint64_t sequence) {
  if (sequence > top_) {
    const uint64_t shift = sequence - top_;
    if (shift >= kSize) {
      bits_.fill(0);
    } else {
      // Every bit moves `shift` places away from the top.
      const size_t words = shift / 64;
      const unsigned bits = shift % 64;
      for (size_t i = kWords; i-- > 0;) {
        uint64_t v = 0;
        if (i >= words) {
          v = bits_[i - words] << bits;
          if (bits != 0 && i > words) v |= bits_[i - words - 1] >> (64 - bits);
        }
        bits_[i] = v;
      }
    }
    top_ = sequence;
    bits_[0] |= 1;
    return;
  }
  const uint64_t distance = top_ - sequence;
  if (distance < kSize) bits_[distance / 64] |= uint64_t{1} << (distance % 64);
}

}  // namespace loom::crypto
