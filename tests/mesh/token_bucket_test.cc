#include "model/mesh/token_bucket.h"

#include <chrono>

#include <gtest/gtest.h>

#include "model/mesh/mesh_config.h"

namespace loom::mesh {
namespace {

using std::chrono::milliseconds;

TEST(TokenBucket, HundredAcceptsTakeAboutFourSeconds) {
  MeshConfig c;
  TokenBucket bucket(c.accept_bucket_capacity, c.accept_token_interval, Time::zero());
  // An accept loop: take a token, wait until it may be spent, accept.
  Time t = Time::zero();
  int immediate = 0;
  for (int i = 0; i < 100; ++i) {
    t = bucket.take(t);
    if (t == Time::zero()) ++immediate;
  }
  // A full bucket (20, plus the token due this instant), then one per 50 ms.
  EXPECT_EQ(immediate, 21);
  EXPECT_EQ(t, milliseconds(50) * 79);
}

TEST(TokenBucket, RefillsToCapacityAndNoFurther) {
  TokenBucket bucket(3, milliseconds(100), milliseconds(1000));
  Time now = milliseconds(1000);
  int got = 0;
  while (bucket.try_take(now)) ++got;
  EXPECT_EQ(got, 4);  // the three stored plus the one due now
  EXPECT_EQ(bucket.next_available(), milliseconds(1100));
  EXPECT_FALSE(bucket.try_take(milliseconds(1099)));
  EXPECT_TRUE(bucket.try_take(milliseconds(1100)));
  // An hour idle refills only to capacity.
  now = milliseconds(3'600'000);
  got = 0;
  while (bucket.try_take(now)) ++got;
  EXPECT_EQ(got, 4);
}

TEST(TokenBucket, WorksBeforeTimeZeroPlusRefill) {
  // Host time starts at 0, so a full bucket's first token is in the past.
  TokenBucket bucket(20, milliseconds(50), Time::zero());
  EXPECT_LE(bucket.next_available(), Time::zero());
  EXPECT_TRUE(bucket.try_take(Time::zero()));
}

}  // namespace
}  // namespace loom::mesh
