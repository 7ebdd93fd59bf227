#pragma once
// A small deterministic generator for task data. Problems are drawn from (seed, index) alone,
// so a prompt does not depend on batch size, rank count or call order; std::mt19937 would
// cost ~5 kB of state per problem and std:: distributions differ between standard libraries.
#include <cstdint>
#include <initializer_list>
#include <utility>

#include "core/mix64.h"

namespace mg::tasks {

// The seed of one piece of task data from several parts (seed, index, stream...): order
// matters. Not mg::derive_seed (the trainers' derived seeds), which mixes its parts differently; both
// are fixed by stored results.
inline uint64_t problem_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6D696E6467617031ULL;  // any fixed start
  for (uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // SplitMix64: the state steps on, and the output is its mix (mix64 adds the step itself).
  uint64_t next() {
    const uint64_t z = mix64(state_);
    state_ += kSplitMix64Step;
    return z;
  }
  // Uniform in [lo, hi] (inclusive); the modulo bias is below 2^-40 for the small ranges used.
  int uniform(int lo, int hi) {
    if (hi <= lo) return lo;
    uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(next() % span);
  }

 private:
  uint64_t state_;
};

// Fisher-Yates shuffle of a random-access range with an Rng.
template <class It>
void shuffle(It first, It last, Rng& rng) {
  auto n = last - first;
  for (auto i = n - 1; i > 0; --i) {
    auto j = rng.uniform(0, static_cast<int>(i));
    std::swap(first[i], first[j]);
  }
}

}  // namespace mg::tasks
