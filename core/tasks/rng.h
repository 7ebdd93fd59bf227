#pragma once
// A small deterministic generator for task data. Problems are drawn from (seed, index) alone,
// so a prompt does not depend on batch size, rank count or call order; std::mt19937 would
// cost ~5 kB of state per problem and std:: distributions differ between standard libraries.
#include <cstdint>
#include <initializer_list>
#include <utility>

namespace mg::tasks {

// SplitMix64 finaliser: a bijective mix of a 64-bit word.
inline uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Derives one seed from several (seed, index, purpose...): order matters.
inline uint64_t derive_seed(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x6D696E6467617031ULL;  // any fixed start
  for (uint64_t p : parts) h = mix64(h ^ mix64(p));
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ULL;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
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
