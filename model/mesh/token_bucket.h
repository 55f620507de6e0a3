// TokenBucket: mesh's accept throttle (mesh:token_bucket.go) on Host time.
//
// Mesh's bucket sleeps until a token is due; this one is told the time and
// says when the token it hands out may be spent, so the caller arms a timer
// instead of sleeping. Like mesh it stores only the time of the earliest
// unspent token: a full bucket is "capacity tokens ago", on a grid of the
// token interval.
#pragma once

#include <cstddef>

#include "model/host.h"

namespace loom::mesh {

class TokenBucket {
 public:
  // Starts full: capacity tokens, one more every token_interval (> 0).
  TokenBucket(size_t capacity, Time token_interval, Time now);

  // Takes a token and returns when it may be used: now if one was available,
  // else the time the next token arrives (the caller waits until then). Each
  // call reserves one token, so back-to-back calls queue up.
  Time take(Time now);
  // Takes a token only if one is available now.
  bool try_take(Time now);
  // When the next token is (or was) available: <= now means at once.
  Time next_available() const;

 private:
  Time full_bucket(Time now) const;

  Time token_interval_;
  Time refill_duration_;
  Time earliest_unspent_;
};

}  // namespace loom::mesh
