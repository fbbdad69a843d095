// mmoe/rng.h: a small, portable, seedable random number generator.
//
// std:: distributions differ between standard libraries, so mmoe draws its own numbers: xoshiro256**
// seeded through splitmix64, uniform floats from the top 24/53 bits, normals by Box-Muller. The same seed
// gives the same stream on every platform, which is what makes "same seed = bit-identical model" hold.
//
//   mmoe::Rng rng(42);
//   double u = rng.uniform();          // [0, 1)
//   double z = rng.normal();           // N(0, 1)
//   uint64_t k = rng.below(10);        // 0..9
//   mmoe::Rng child = rng.derive(3);   // an independent stream, e.g. for run 3 of an experiment
#pragma once

#include <cstdint>
#include <span>

namespace mmoe {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);

  uint64_t next_u64();
  double uniform();                       // [0, 1), 53 bits
  double uniform(double lo, double hi);   // [lo, hi)
  double normal();                        // N(0, 1)
  uint64_t below(uint64_t n);             // uniform integer in [0, n), unbiased
  Rng derive(uint64_t stream) const;      // independent child stream, a pure function of (state, stream)

  // Fisher-Yates shuffle of the values in `items`.
  template <typename T>
  void shuffle(std::span<T> items) {
    for (size_t i = items.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(below(i));
      T tmp = items[i - 1];
      items[i - 1] = items[j];
      items[j] = tmp;
    }
  }

  // Full state, for checkpoints.
  struct State {
    uint64_t s[4];
    double spare_normal;
    bool has_spare;
  };
  State state() const;
  void set_state(const State& state);

 private:
  uint64_t s_[4];
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace mmoe
