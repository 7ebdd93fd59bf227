#pragma once
// The one 64-bit mixing function behind every derived seed (mg::derive_seed), the task data's
// generator (core/tasks/rng.h) and hashed uniforms: SplitMix64's step and finaliser, a cheap,
// well-mixed bijection of a 64-bit word. Its constants fix every stored result: do not change.
#include <cstdint>

namespace mg {

inline constexpr uint64_t kSplitMix64Step = 0x9E3779B97F4A7C15ULL;

inline uint64_t mix64(uint64_t x) {
  x += kSplitMix64Step;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace mg
