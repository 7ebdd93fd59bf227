#pragma once
// Derived seeds: every random choice is a pure function of (run seed, purpose, round, index...),
// so results do not depend on batch composition, rank or world size (docs/design.md, "Determinism").
#include <cstdint>
#include <initializer_list>

#include "core/mix64.h"

namespace mg {

// Purposes, so that streams for different uses never coincide.
enum class SeedPurpose : uint64_t {
  PretrainData = 1, EvalPrompts = 2, EvalVerify = 3, RoundPrompts = 4, Sampling = 5,
  DistillData = 6, Replay = 7, TorchInit = 8, Candidate = 9, Tokenizer = 10, EquivalentSampling = 11,
  PeerSampling = 12, PassAt = 13,
};

inline uint64_t derive_seed(uint64_t seed, SeedPurpose purpose, std::initializer_list<uint64_t> parts = {}) {
  uint64_t h = mix64(seed ^ mix64(static_cast<uint64_t>(purpose)));
  for (uint64_t p : parts) h = mix64(h ^ p);
  return h;
}

// A uniform double in [0, 1) from a hash.
inline double unit_from(uint64_t h) { return static_cast<double>(mix64(h) >> 11) * 0x1.0p-53; }

}  // namespace mg
