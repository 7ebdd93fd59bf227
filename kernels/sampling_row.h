#pragma once
// The per-row sampling rule shared by the CUDA kernel and its CPU twin: the order-preserving
// float -> uint32 key (thresholds are searched in key space) and the per-row settings.
#include <cstdint>
#include <cmath>
#include <cstring>

#include "kernels/philox.h"

namespace mg::kernels::sampling_detail {

// Monotone map of floats onto unsigned integers: a < b (as floats, no NaN) <=> key(a) < key(b),
// and a == b <=> key(a) == key(b): -0 is mapped as +0, since ties are decided by value.
// -inf maps to 0x007FFFFF, the smallest key any non-NaN float gets.
MG_HOST_DEVICE uint32_t float_key(float f) {
  if (f == 0.0f) f = 0.0f;  // -0 -> +0
#ifdef __CUDA_ARCH__
  const uint32_t bits = __float_as_uint(f);
#else
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
#endif
  return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

MG_HOST_DEVICE float key_float(uint32_t key) {
  const uint32_t bits = (key & 0x80000000u) ? (key & 0x7FFFFFFFu) : ~key;
#ifdef __CUDA_ARCH__
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
#endif
}

// Float arithmetic that the device compiler may not fuse into FMAs (which round differently),
// so that host and device produce the same bits.
MG_HOST_DEVICE float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MG_HOST_DEVICE float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

// exp(x) for x <= 0 from IEEE-exact operations only (+, *, rint and exponent bits), so the CPU
// twin and the kernel compute bit-identical token weights (expf differs by an ulp or two
// between libm and CUDA). Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, a degree-7 Taylor
// polynomial (truncation < 1e-8 relative), then scaling by 2^k. x < -104 (and NaN) give 0.
MG_HOST_DEVICE float exp_nonpositive(float x) {
  if (!(x >= -104.0f)) return 0.0f;
#ifdef __CUDA_ARCH__
  const float kf = rintf(mul_rn(x, 1.44269504088896341f));
#else
  const float kf = std::nearbyint(mul_rn(x, 1.44269504088896341f));
#endif
  // ln2 split so that kf * kLn2Hi is exact for |k| < 2^8.
  const float kLn2Hi = 0.693145751953125f, kLn2Lo = 1.42860676533018e-06f;
  const float r = add_rn(add_rn(x, -mul_rn(kf, kLn2Hi)), -mul_rn(kf, kLn2Lo));
  float p = 1.0f / 5040.0f;
  p = add_rn(mul_rn(p, r), 1.0f / 720.0f);
  p = add_rn(mul_rn(p, r), 1.0f / 120.0f);
  p = add_rn(mul_rn(p, r), 1.0f / 24.0f);
  p = add_rn(mul_rn(p, r), 1.0f / 6.0f);
  p = add_rn(mul_rn(p, r), 0.5f);
  p = add_rn(mul_rn(p, r), 1.0f);
  p = add_rn(mul_rn(p, r), 1.0f);
  int k = static_cast<int>(kf);
  if (k < -126) {  // subnormal result: scale in two exact-or-correctly-rounded steps
    p = mul_rn(p, 5.42101086242752217e-20f);  // 2^-64
    k += 64;
  }
  return mul_rn(p, key_float(static_cast<uint32_t>(k + 127) << 23 | 0x80000000u));  // times 2^k
}

// The threshold searches of the GPU kernel look for the largest key t with pred(t) true, where
// pred is monotone (true up to the answer, false above): "at least k tokens have key >= t" or
// "the tokens with key >= t hold at least the top-p mass". Each pass evaluates pred at
// kSearchWays evenly spaced candidates of [lo, hi] (the first is lo, known true) and keeps the
// sub-interval between the last true and the first false one: 8 passes for 32-bit keys.
constexpr int kSearchWays = 16;

#ifdef __CUDACC__
#define MG_UNROLL _Pragma("unroll")
#else
#define MG_UNROLL
#endif

// The candidates lo + j * step, j < kSearchWays, of one pass; computed, not stored, so that the
// kernel keeps them in registers (an array indexed by a run-time value would live in local memory).
struct SearchGrid {
  uint32_t lo, hi;
  uint64_t step;
  MG_HOST_DEVICE uint32_t at(int j) const { return static_cast<uint32_t>(lo + uint64_t(j) * step); }
  MG_HOST_DEVICE bool valid(int j) const { return lo + uint64_t(j) * step <= hi; }  // else not evaluated
};

MG_HOST_DEVICE SearchGrid make_grid(uint32_t lo, uint32_t hi) {
  return SearchGrid{lo, hi, (uint64_t(hi) - lo + 1 + kSearchWays - 1) / kSearchWays};
}

// ok(j) = pred(g.at(j)) for the valid j >= 1; narrows [lo, hi] around the answer.
template <typename Ok>
MG_HOST_DEVICE void narrow(const SearchGrid& g, const Ok& ok, uint32_t& lo, uint32_t& hi) {
  int best = 0;
  MG_UNROLL
  for (int j = 1; j < kSearchWays; ++j)
    if (g.valid(j) && ok(j)) best = j;
  lo = g.at(best);
  if (best + 1 < kSearchWays && g.valid(best + 1)) hi = g.at(best + 1) - 1;
}

struct RowSettings {
  float temperature;
  int64_t top_k;
  float top_p;
  float min_p;
  uint64_t seed;
  uint64_t offset;
};

// Whether each filter is on for a row of V tokens (the same test on host and device).
MG_HOST_DEVICE bool is_greedy(const RowSettings& s) { return !(s.temperature > 0.0f); }
MG_HOST_DEVICE bool top_k_on(const RowSettings& s, int64_t V) { return s.top_k > 0 && s.top_k < V; }
MG_HOST_DEVICE bool top_p_on(const RowSettings& s) { return s.top_p < 1.0f; }
MG_HOST_DEVICE float min_p_clamped(const RowSettings& s) { return s.min_p > 1.0f ? 1.0f : s.min_p; }

}  // namespace mg::kernels::sampling_detail
