// Random: the only source of randomness an engine may use.
//
// A concrete generator (xoshiro256**, seeded through splitmix64) rather than
// an interface, so that the same seed gives the same sequence on every
// backend: a live run's seed can be replayed in simulation. The backend picks
// the seed (ns-3: derived from the scenario seed and the node index; live:
// from the kernel). Valid C++17 (included by host.h).
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace loom {

class Random {
 public:
  using result_type = uint64_t;  // UniformRandomBitGenerator, for std::shuffle

  explicit Random(uint64_t seed);
  // A generator for stream `index` of `seed`: distinct, reproducible streams
  // for many hosts from one scenario seed.
  static Random stream(uint64_t seed, uint64_t index);

  uint64_t next();
  uint64_t operator()() { return next(); }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return std::numeric_limits<uint64_t>::max(); }

  // Uniform in [0, bound); bound 0 returns 0. Unbiased.
  uint64_t below(uint64_t bound);
  // Uniform in [lo, hi], inclusive.
  int64_t between(int64_t lo, int64_t hi);
  // Uniform in [0, 1).
  double unit();
  // True with probability p.
  bool chance(double p) { return unit() < p; }

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace loom
