#include "model/mesh/token_bucket.h"

#include <algorithm>
#include <cassert>

namespace loom::mesh {

TokenBucket::TokenBucket(size_t capacity, Time token_interval, Time now)
    : token_interval_(token_interval),
      refill_duration_(token_interval * static_cast<int64_t>(capacity)),
      earliest_unspent_(full_bucket(now)) {
  assert(token_interval > Time::zero());
}

// The timestamp of the earliest token of a full bucket, truncated to the
// token grid as mesh does. Host time may start at 0, so this can be negative:
// round towards minus infinity.
Time TokenBucket::full_bucket(Time now) const {
  Time t = now - refill_duration_;
  auto ticks = t.count() / token_interval_.count();
  if (t.count() % token_interval_.count() < 0) --ticks;
  return token_interval_ * ticks;
}

Time TokenBucket::next_available() const { return earliest_unspent_; }

Time TokenBucket::take(Time now) {
  Time usable = std::max(earliest_unspent_, now);
  // Tokens do not pile up beyond the capacity.
  earliest_unspent_ = std::max(earliest_unspent_, full_bucket(usable));
  earliest_unspent_ += token_interval_;
  return usable;
}

bool TokenBucket::try_take(Time now) {
  if (earliest_unspent_ > now) return false;
  (void)take(now);
  return true;
}

}  // namespace loom::mesh
