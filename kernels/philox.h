#pragma once
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator, so a draw is a pure function of (key, counter) with no state to
// carry between calls. The same code compiles for host and device, which is what lets the
// CPU twin of the sampling kernel reproduce the GPU kernel's uniforms bit for bit.
#include <cstdint>

#ifdef __CUDACC__
#define MG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define MG_HOST_DEVICE inline
#endif

namespace mg::kernels::philox {

struct Uint4 {
  uint32_t x, y, z, w;
};

// High and low halves of a 32x32 -> 64-bit product, written portably (no __umulhi) so that
// host and device compute the same bits.
MG_HOST_DEVICE void mul_hi_lo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

MG_HOST_DEVICE Uint4 philox_round(Uint4 c, uint32_t k0, uint32_t k1) {
  uint32_t hi0, lo0, hi1, lo1;
  mul_hi_lo(0xD2511F53u, c.x, &hi0, &lo0);
  mul_hi_lo(0xCD9E8D57u, c.z, &hi1, &lo1);
  return Uint4{hi1 ^ c.y ^ k0, lo1, hi0 ^ c.w ^ k1, lo0};
}

// Ten rounds with the Weyl key schedule of the paper.
MG_HOST_DEVICE Uint4 philox4x32_10(Uint4 counter, uint32_t k0, uint32_t k1) {
  for (int i = 0; i < 10; ++i) {
    counter = philox_round(counter, k0, k1);
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return counter;
}

// The first of the four words for key = seed and counter = (offset, stream): one uniform per
// (seed, offset, stream). The stream word lets a caller take several independent draws per step.
MG_HOST_DEVICE uint32_t draw_u32(uint64_t seed, uint64_t offset, uint32_t stream = 0) {
  const Uint4 c{static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32), stream, 0u};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)).x;
}

// Uniform in [0, 1) from the top 24 bits: exactly representable in float, so the value is
// identical on host and device and never rounds up to 1.
MG_HOST_DEVICE float uniform_from_u32(uint32_t bits) {
  return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f);
}

MG_HOST_DEVICE float uniform(uint64_t seed, uint64_t offset, uint32_t stream = 0) {
  return uniform_from_u32(draw_u32(seed, offset, stream));
}

}  // namespace mg::kernels::philox
